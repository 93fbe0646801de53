package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sesame/sesame/internal/identity"
	"github.com/sesame/sesame/internal/registry"
	"github.com/sesame/sesame/internal/store"
)

type createData struct {
	CSRF  string
	Name  string
	Error string
}

func (c *Console) createForm(w http.ResponseWriter, r *request) error {
	c.render(w, r.Request, r.s, http.StatusOK, "create.html", "Create identity", createData{CSRF: r.s.CSRF})
	return nil
}

// create adds a domain (with Easy DKIM, as SES's current console does) or
// an address (which gets its verification email), as v2
// CreateEmailIdentity does.
func (c *Console) create(w http.ResponseWriter, r *request) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	id, err := c.Registry.CreateEmailIdentity(r.Context(), r.scope, name, registry.CreateOptions{})
	var re *registry.Error
	if errors.As(err, &re) {
		c.render(w, r.Request, r.s, statusOf(re.Kind), "create.html", "Create identity", createData{CSRF: r.s.CSRF, Name: name, Error: re.Message})
		return nil
	}
	if err != nil {
		return err
	}
	c.Log.Info("identity created in the console", "identity", id.Name, "account", id.Account, "region", id.Region)
	http.Redirect(w, r.Request, identityPath(id.Name)+"?done=created", http.StatusSeeOther)
	return nil
}

// show is an identity's page.
func (c *Console) show(w http.ResponseWriter, r *request) error {
	return c.identityPage(w, r, http.StatusOK, "")
}

// identityPage renders the identity page, with formErr beside the MAIL
// FROM form when a change was refused.
func (c *Console) identityPage(w http.ResponseWriter, r *request, status int, formErr string) error {
	id, err := c.Registry.Get(r.Context(), r.scope, r.PathValue("name"))
	if err != nil {
		return err
	}
	d, err := c.identityData(r, id)
	if err != nil {
		return err
	}
	d.FormError = formErr
	c.render(w, r.Request, r.s, status, "identity.html", id.Name, d)
	return nil
}

// checkNow asks the name servers at once (verify.Verifier.CheckNow), then
// shows the page again with the result.
func (c *Console) checkNow(w http.ResponseWriter, r *request) error {
	if c.Verifier == nil {
		return &registry.Error{Kind: registry.Invalid, Message: "This server has no DNS verifier; identities cannot be checked from the console."}
	}
	id, err := c.Registry.Get(r.Context(), r.scope, r.PathValue("name"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), durationOr(c.CheckTimeout, DefaultCheckTimeout))
	defer cancel()
	if _, err := c.Verifier.CheckNow(ctx, id.Key); errors.Is(err, store.ErrNotFound) {
		return &registry.Error{Kind: registry.NotFound, Message: "Email identity " + id.Name + " does not exist."}
	} else if err != nil {
		return err
	}
	http.Redirect(w, r.Request, identityPath(id.Name)+"?done=checked#status", http.StatusSeeOther)
	return nil
}

// setMailFrom sets, changes or (empty) removes the custom MAIL FROM
// domain.
func (c *Console) setMailFrom(w http.ResponseWriter, r *request) error {
	name := r.PathValue("name")
	_, err := c.Registry.SetMailFrom(r.Context(), r.scope, name, strings.TrimSpace(r.PostFormValue("mail_from")), r.PostFormValue("behavior"))
	var re *registry.Error
	if errors.As(err, &re) && re.Kind == registry.Invalid {
		return c.identityPage(w, r, http.StatusBadRequest, re.Message)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, identityPath(name)+"?done=mailfrom#mail-from", http.StatusSeeOther)
	return nil
}

// resend sends an address a new verification email.
func (c *Console) resend(w http.ResponseWriter, r *request) error {
	id, err := c.Registry.Get(r.Context(), r.scope, r.PathValue("name"))
	if err != nil {
		return err
	}
	if id.IsDomain() || id.Verification.Status == identity.Success {
		return &registry.Error{Kind: registry.Invalid, Message: id.Name + " needs no verification email."}
	}
	if _, err := c.Registry.VerifyEmailIdentity(r.Context(), r.scope, id.Name); err != nil {
		return err
	}
	http.Redirect(w, r.Request, identityPath(id.Name)+"?done=resent", http.StatusSeeOther)
	return nil
}

type deleteData struct {
	CSRF  string
	Name  string
	Error string
}

func (c *Console) deleteForm(w http.ResponseWriter, r *request) error {
	id, err := c.Registry.Get(r.Context(), r.scope, r.PathValue("name"))
	if err != nil {
		return err
	}
	c.render(w, r.Request, r.s, http.StatusOK, "delete.html", "Delete "+id.Name, deleteData{CSRF: r.s.CSRF, Name: id.Name})
	return nil
}

// delete removes an identity once its name is typed again: a deleted
// domain's tokens are gone for good, and its records must be published
// anew if it is added back.
func (c *Console) delete(w http.ResponseWriter, r *request) error {
	id, err := c.Registry.Get(r.Context(), r.scope, r.PathValue("name"))
	if err != nil {
		return err
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != id.Name {
		c.render(w, r.Request, r.s, http.StatusBadRequest, "delete.html", "Delete "+id.Name,
			deleteData{CSRF: r.s.CSRF, Name: id.Name, Error: "Type the identity's name exactly to confirm."})
		return nil
	}
	if _, err := c.Registry.Delete(r.Context(), r.scope, id.Name); err != nil {
		return err
	}
	c.Log.Info("identity deleted in the console", "identity", id.Name, "account", id.Account, "region", id.Region)
	http.Redirect(w, r.Request, "/console/identities?done=deleted", http.StatusSeeOther)
	return nil
}
