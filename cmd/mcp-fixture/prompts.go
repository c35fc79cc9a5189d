package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

type promptArgument struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

type promptDefinition struct {
	Name        string           `json:"name"`
	Title       string           `json:"title,omitempty"`
	Description string           `json:"description"`
	Arguments   []promptArgument `json:"arguments,omitempty"`
}

type promptMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// prompt renders its messages from its arguments or, when it needs the
// client's input first, with a multi-round handler (mrtr.go).
type prompt struct {
	definition promptDefinition
	render     func(args map[string]string) []promptMessage
	rounds     func(ctx context.Context, args map[string]string, r round) (roundResult, error)
}

func userSays(content any) promptMessage {
	return promptMessage{Role: "user", Content: content}
}

// builtinPrompts are the fixture's own greeting plus the prompts the
// conformance suite's scenarios get.
func (s *session) builtinPrompts() []prompt {
	return []prompt{
		{
			definition: promptDefinition{
				Name:        "greeting",
				Description: "Greets someone by name.",
				Arguments:   []promptArgument{{Name: "name", Description: "Who to greet", Required: true}},
			},
			render: func(args map[string]string) []promptMessage {
				return []promptMessage{userSays(text(fmt.Sprintf("Hello, %s!", args["name"])))}
			},
		},
		{
			definition: promptDefinition{
				Name:        "test_simple_prompt",
				Title:       "Simple Test Prompt",
				Description: "A simple prompt without arguments",
			},
			render: func(map[string]string) []promptMessage {
				return []promptMessage{userSays(text("This is a simple prompt for testing."))}
			},
		},
		{
			definition: promptDefinition{
				Name:        "test_prompt_with_arguments",
				Title:       "Prompt With Arguments",
				Description: "A prompt with required arguments",
				Arguments: []promptArgument{
					{Name: "arg1", Description: "First test argument", Required: true},
					{Name: "arg2", Description: "Second test argument", Required: true},
				},
			},
			render: func(args map[string]string) []promptMessage {
				return []promptMessage{userSays(text(fmt.Sprintf("Prompt with arguments: arg1='%s', arg2='%s'", args["arg1"], args["arg2"])))}
			},
		},
		{
			definition: promptDefinition{
				Name:        "test_prompt_with_embedded_resource",
				Title:       "Prompt With Embedded Resource",
				Description: "A prompt that includes an embedded resource",
				Arguments:   []promptArgument{{Name: "resourceUri", Description: "URI of the resource to embed", Required: true}},
			},
			render: func(args map[string]string) []promptMessage {
				return []promptMessage{
					userSays(embedded(resourceContents{
						URI: args["resourceUri"], MimeType: "text/plain", Text: "Embedded resource content for testing.",
					})),
					userSays(text("Please process the embedded resource above.")),
				}
			},
		},
		{
			definition: promptDefinition{
				Name:        "test_prompt_with_image",
				Title:       "Prompt With Image",
				Description: "A prompt that includes image content",
			},
			render: func(map[string]string) []promptMessage {
				return []promptMessage{
					userSays(image(pngPixel, "image/png")),
					userSays(text("Please analyze the image above.")),
				}
			},
		},
		{
			definition: promptDefinition{
				Name:        "test_input_required_result_prompt",
				Title:       "Prompt That Needs Input",
				Description: "A prompt that asks the user, by elicitation, what context to use",
			},
			rounds: s.inputRequiredPrompt,
		},
	}
}

// listedPrompts is the current prompt list, which
// test_trigger_prompt_change changes.
func (s *session) listedPrompts() []prompt {
	if !s.shared.prompts.isOn() {
		return s.prompts
	}
	return append(slices.Clip(s.prompts), prompt{
		definition: promptDefinition{Name: "extra_prompt", Description: "A prompt that test_trigger_prompt_change adds and removes."},
		render: func(map[string]string) []promptMessage {
			return []promptMessage{userSays(text("This prompt comes and goes."))}
		},
	})
}

type promptsListResult struct {
	Prompts    []promptDefinition `json:"prompts"`
	NextCursor string             `json:"nextCursor,omitempty"`
}

func (s *session) listPrompts(params json.RawMessage) (any, error) {
	prompts := s.listedPrompts()
	defs := make([]promptDefinition, len(prompts))
	for i, p := range prompts {
		defs[i] = p.definition
	}
	page, next, err := listPage(params, "prompts", defs, s.cfg.pageSize)
	if err != nil {
		return nil, err
	}
	return promptsListResult{Prompts: page, NextCursor: next}, nil
}

type getPromptResult struct {
	Description string          `json:"description"`
	Messages    []promptMessage `json:"messages"`
}

func (s *session) getPrompt(ctx context.Context, params json.RawMessage) (any, error) {
	var p struct {
		Name      string            `json:"name"`
		Arguments map[string]string `json:"arguments"`
		retryParams
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	prompts := s.listedPrompts()
	i := slices.IndexFunc(prompts, func(pr prompt) bool { return pr.definition.Name == p.Name })
	if i < 0 {
		return nil, invalidParams("Unknown prompt: %s", p.Name)
	}
	found := prompts[i]
	for _, arg := range found.definition.Arguments {
		if _, ok := p.Arguments[arg.Name]; arg.Required && !ok {
			return nil, invalidParams("prompt %s: missing required argument %s", p.Name, arg.Name)
		}
	}
	if found.rounds != nil {
		return s.promptRounds(ctx, p.Name, p.retryParams, func(ctx context.Context, r round) (roundResult, error) {
			return found.rounds(ctx, p.Arguments, r)
		})
	}
	return getPromptResult{Description: found.definition.Description, Messages: found.render(p.Arguments)}, nil
}
