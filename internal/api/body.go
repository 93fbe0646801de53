package api

import (
	"errors"
	"io"
	"net/http"
)

// MaxBody is the largest request body read: a custom verification template
// may be close to 10 MB.
const MaxBody = 11 << 20

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
