package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

type resourceDefinition struct {
	URI         string `json:"uri"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	MimeType    string `json:"mimeType,omitempty"`
}

type staticResource struct {
	definition resourceDefinition
	contents   resourceContents
}

type templateDefinition struct {
	URITemplate string `json:"uriTemplate"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	MimeType    string `json:"mimeType,omitempty"`
}

// templateResource is a resource template with a single {id} variable.
type templateResource struct {
	definition templateDefinition
	read       func(uri, id string) resourceContents
}

// builtinResources are the fixture's own static resource, whose URI and
// text name the server, plus those of the conformance scenarios.
func builtinResources(serverName string) []staticResource {
	own := fmt.Sprintf("fixture://%s/static", serverName)
	return []staticResource{
		{
			definition: resourceDefinition{URI: own, Name: "static", Description: "Static text resource of fixture " + serverName, MimeType: "text/plain"},
			contents:   resourceContents{URI: own, MimeType: "text/plain", Text: "static resource of " + serverName},
		},
		{
			definition: resourceDefinition{URI: "test://static-text", Name: "static-text", Title: "Static Text Resource",
				Description: "A static text resource for testing", MimeType: "text/plain"},
			contents: resourceContents{URI: "test://static-text", MimeType: "text/plain",
				Text: "This is the content of the static text resource."},
		},
		{
			definition: resourceDefinition{URI: "test://static-binary", Name: "static-binary", Title: "Static Binary Resource",
				Description: "A static binary resource (image) for testing", MimeType: "image/png"},
			contents: resourceContents{URI: "test://static-binary", MimeType: "image/png", Blob: pngPixel},
		},
		{
			definition: resourceDefinition{URI: "test://watched-resource", Name: "watched-resource", Title: "Watched Resource",
				Description: "A resource to subscribe to; the touch tool reports it updated", MimeType: "text/plain"},
			contents: resourceContents{URI: "test://watched-resource", MimeType: "text/plain", Text: "Watched resource content"},
		},
	}
}

func builtinTemplates(serverName string) []templateResource {
	return []templateResource{
		{
			definition: templateDefinition{URITemplate: fmt.Sprintf("fixture://%s/items/{id}", serverName), Name: "items",
				Description: "Items of fixture " + serverName, MimeType: "text/plain"},
			read: func(uri, id string) resourceContents {
				return resourceContents{URI: uri, MimeType: "text/plain", Text: fmt.Sprintf("item %s of %s", id, serverName)}
			},
		},
		{
			definition: templateDefinition{URITemplate: "test://template/{id}/data", Name: "template", Title: "Resource Template",
				Description: "A resource template with parameter substitution", MimeType: "application/json"},
			read: func(uri, id string) resourceContents {
				data := struct {
					ID           string `json:"id"`
					TemplateTest bool   `json:"templateTest"`
					Data         string `json:"data"`
				}{ID: id, TemplateTest: true, Data: "Data for ID: " + id}
				return resourceContents{URI: uri, MimeType: "application/json", Text: string(mustRaw(data))}
			},
		},
	}
}

// matchTemplate matches uri against a template with one {id} variable,
// which stands for a non-empty run of characters without a slash.
func matchTemplate(template, uri string) (id string, ok bool) {
	prefix, suffix, found := strings.Cut(template, "{id}")
	if !found || len(uri) < len(prefix)+len(suffix) ||
		!strings.HasPrefix(uri, prefix) || !strings.HasSuffix(uri, suffix) {
		return "", false
	}
	id = uri[len(prefix) : len(uri)-len(suffix)]
	if id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

type resourcesListResult struct {
	Resources  []resourceDefinition `json:"resources"`
	NextCursor string               `json:"nextCursor,omitempty"`
}

func (s *session) listResources(params json.RawMessage) (any, error) {
	defs := make([]resourceDefinition, len(s.resources))
	for i, r := range s.resources {
		defs[i] = r.definition
	}
	page, next, err := listPage(params, "resources", defs, s.cfg.pageSize)
	if err != nil {
		return nil, err
	}
	return resourcesListResult{Resources: page, NextCursor: next}, nil
}

type templatesListResult struct {
	ResourceTemplates []templateDefinition `json:"resourceTemplates"`
	NextCursor        string               `json:"nextCursor,omitempty"`
}

func (s *session) listTemplates(params json.RawMessage) (any, error) {
	defs := make([]templateDefinition, len(s.templates))
	for i, t := range s.templates {
		defs[i] = t.definition
	}
	page, next, err := listPage(params, "templates", defs, s.cfg.pageSize)
	if err != nil {
		return nil, err
	}
	return templatesListResult{ResourceTemplates: page, NextCursor: next}, nil
}

type readResourceResult struct {
	Contents []resourceContents `json:"contents"`
}

func (s *session) readResource(params json.RawMessage) (any, error) {
	var p struct {
		URI string `json:"uri"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	for _, r := range s.resources {
		if r.definition.URI == p.URI {
			return readResourceResult{Contents: []resourceContents{r.contents}}, nil
		}
	}
	for _, t := range s.templates {
		if id, ok := matchTemplate(t.definition.URITemplate, p.URI); ok {
			return readResourceResult{Contents: []resourceContents{t.read(p.URI, id)}}, nil
		}
	}
	return nil, &rpcError{Code: codeResourceNotFound, Message: "Resource not found",
		Data: mustRaw(map[string]string{"uri": p.URI})}
}

// subscribe records (or, with on false, drops) a subscription; the touch
// tool notifies updates only for subscribed URIs.
func (s *session) subscribe(params json.RawMessage, on bool) (any, error) {
	var p struct {
		URI string `json:"uri"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.URI == "" {
		return nil, invalidParams("missing uri")
	}
	s.mu.Lock()
	if on {
		s.subscriptions[p.URI] = true
	} else {
		delete(s.subscriptions, p.URI)
	}
	s.mu.Unlock()
	return struct{}{}, nil
}
