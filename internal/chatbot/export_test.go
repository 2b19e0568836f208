package chatbot

import "context"

// Answer is the reply the bot would post to m (for the command fuzz
// target, which needs no sessionWebhook round trip).
func Answer(ctx context.Context, s *Service, m Message) (title, text string) { return s.answer(ctx, m) }
