package api

import (
	"errors"
	"io"
	"net/http"
)

// MaxBody is the largest request body read. A custom verification
// template may hold close to 10 MB of HTML, which grows in transit: v1
// percent-encodes <, >, ", = and spaces into three bytes each, and a JSON
// encoder may write a non-ASCII character as a six-byte \uXXXX escape.
const MaxBody = 32 << 20

// ReadBody reads the whole body, refusing more than MaxBody.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than %d bytes.", MaxBody)
	}
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, "IncompleteBody", "The request body could not be read: %v.", err)
	}
	return b, nil
}
