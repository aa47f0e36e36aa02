package supervise

import (
	"bytes"
	"fmt"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
