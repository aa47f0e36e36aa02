// The office console (issue 19, item 6): see below.
