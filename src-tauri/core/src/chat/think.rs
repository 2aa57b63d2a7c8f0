//! Separates a reasoning model's `<think>…</think>` section from its answer while the text
//! streams in pieces that may cut a tag anywhere (`<thi` + `nk>`).

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

#[derive(Debug, Default)]
pub struct ThinkSplitter {
    /// Inside a think section.
    thinking: bool,
    /// Whether any visible answer text has been seen (a `<think>` after it is plain text).
    answered: bool,
    /// The tail of the last piece that may be the start of a tag.
    held: String,
}

/// What a piece of content adds to the answer and to the reasoning.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub content: String,
    pub reasoning: String,
}

impl ThinkSplitter {
    pub fn push(&mut self, piece: &str) -> Split {
        let mut out = Split::default();
        self.push_into(piece, &mut out.content, &mut out.reasoning);
        out
    }

    /// [`push`](Self::push) appending to the caller's buffers, with no allocation once the
    /// answer has begun outside a think section (the common case, thousands of times a second).
    pub fn push_into(&mut self, piece: &str, content: &mut String, reasoning: &mut String) {
        if !self.thinking && self.answered && self.held.is_empty() {
            content.push_str(piece);
            return;
        }
        let mut text = std::mem::take(&mut self.held);
        text.push_str(piece);
        let mut out = Out { content, reasoning };
        let mut rest = text.as_str();
        loop {
            let tag = if self.thinking { CLOSE } else { OPEN };
            // A think section only opens before the answer (leading whitespace aside).
            let may_open = self.thinking || !self.answered;
            match rest.find(tag).filter(|_| may_open) {
                Some(i) => {
                    self.emit(&rest[..i], &mut out);
                    rest = &rest[i + tag.len()..];
                    self.thinking = !self.thinking;
                    if !self.thinking {
                        // Models put a blank line after </think>.
                        rest = rest.trim_start_matches(['\n', '\r']);
                    }
                }
                None => {
                    let keep = if may_open {
                        partial_suffix(rest, tag)
                    } else {
                        0
                    };
                    let (now, later) = rest.split_at(rest.len() - keep);
                    self.emit(now, &mut out);
                    self.held = later.to_string();
                    return;
                }
            }
        }
    }

    /// Whatever was held back at the end of the stream.
    pub fn finish(&mut self) -> Split {
        let mut split = Split::default();
        let held = std::mem::take(&mut self.held);
        let mut out = Out {
            content: &mut split.content,
            reasoning: &mut split.reasoning,
        };
        self.emit(&held, &mut out);
        split
    }

    fn emit(&mut self, s: &str, out: &mut Out<'_>) {
        if s.is_empty() {
            return;
        }
        if self.thinking {
            out.reasoning.push_str(s);
        } else if self.answered {
            out.content.push_str(s);
        } else {
            // Leading whitespace before a possible <think> is not yet an answer.
            let trimmed = s.trim_start();
            if !trimmed.is_empty() {
                self.answered = true;
                out.content.push_str(trimmed);
            }
        }
    }
}

/// Where [`ThinkSplitter::emit`] appends.
struct Out<'a> {
    content: &'a mut String,
    reasoning: &'a mut String,
}

/// Length of the longest suffix of `s` that is a proper prefix of `tag`.
fn partial_suffix(s: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| {
            s.len() >= n && s.is_char_boundary(s.len() - n) && tag.starts_with(&s[s.len() - n..])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&str]) -> Split {
        let mut t = ThinkSplitter::default();
        let mut all = Split::default();
        for p in pieces {
            let s = t.push(p);
            all.content.push_str(&s.content);
            all.reasoning.push_str(&s.reasoning);
        }
        let s = t.finish();
        all.content.push_str(&s.content);
        all.reasoning.push_str(&s.reasoning);
        all
    }

    #[test]
    fn plain_answer_passes_through() {
        let s = run(&["Hello", " world", "!"]);
        assert_eq!(s.content, "Hello world!");
        assert_eq!(s.reasoning, "");
    }

    #[test]
    fn think_section_is_split_out_whatever_the_cuts() {
        let text = "<think>Let me see.\nOK.</think>\n\nThe answer is 4.";
        // Every way of cutting the text in two, and one char at a time.
        for i in 0..=text.len() {
            let s = run(&[&text[..i], &text[i..]]);
            assert_eq!(s.reasoning, "Let me see.\nOK.", "cut at {i}");
            assert_eq!(s.content, "The answer is 4.", "cut at {i}");
        }
        let chars: Vec<String> = text.chars().map(String::from).collect();
        let refs: Vec<&str> = chars.iter().map(String::as_str).collect();
        let s = run(&refs);
        assert_eq!(s.reasoning, "Let me see.\nOK.");
        assert_eq!(s.content, "The answer is 4.");
    }

    #[test]
    fn leading_whitespace_then_think() {
        let s = run(&["\n", "<think>", "hmm", "</think>", "Yes"]);
        assert_eq!(s.reasoning, "hmm");
        assert_eq!(s.content, "Yes");
    }

    #[test]
    fn think_tag_inside_the_answer_is_text() {
        let s = run(&["Use the ", "<think> tag like <think>this</think>."]);
        assert_eq!(s.content, "Use the <think> tag like <think>this</think>.");
        assert_eq!(s.reasoning, "");
    }

    #[test]
    fn unterminated_think_stays_reasoning() {
        let s = run(&["<think>still thinking", " <"]);
        assert_eq!(s.reasoning, "still thinking <");
        assert_eq!(s.content, "");
    }

    #[test]
    fn a_lone_angle_bracket_is_not_held_forever() {
        let s = run(&["a < b", " and c"]);
        assert_eq!(s.content, "a < b and c");
    }

    #[test]
    fn multibyte_text_near_a_cut() {
        let s = run(&["<think>é", "</thi", "nk>ü<"]);
        assert_eq!(s.reasoning, "é");
        assert_eq!(s.content, "ü<");
    }
}
