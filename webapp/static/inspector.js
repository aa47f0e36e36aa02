// The inspector's phone (issue 19, item 6): see below.
