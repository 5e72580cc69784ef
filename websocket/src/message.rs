//! A WebSocket message: text or binary.

/// One data message, as sent or received.
///
/// ```
/// use websocket::Message;
/// let m = Message::text("hello");
/// assert_eq!(m.len(), 5);
/// assert_eq!(m.as_text(), Some("hello"));
/// assert_eq!(Message::binary(vec![1, 2]).kind(), "binary");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text frame (UTF-8).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(bytes: impl Into<Vec<u8>>) -> Message {
        Message::Binary(bytes.into())
    }

    /// The payload's size in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `"text"` or `"binary"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Text(_) => "text",
            Message::Binary(_) => "binary",
        }
    }

    /// The text, for a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(t) => Some(t),
            Message::Binary(_) => None,
        }
    }

    /// The text, for a text message, taken out.
    pub fn into_text(self) -> Option<String> {
        match self {
            Message::Text(t) => Some(t),
            Message::Binary(_) => None,
        }
    }

    pub(crate) fn into_frame(self) -> tungstenite::Message {
        match self {
            Message::Text(t) => tungstenite::Message::text(t),
            Message::Binary(b) => tungstenite::Message::binary(b),
        }
    }
}

/// A close frame to send: a status code and a reason.
///
/// ```
/// let close = websocket::CloseFrame::new(4000, "done");
/// assert_eq!(close.code, 4000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code (1000 normal closure; 3000–4999 for applications).
    pub code: u16,
    /// Why, at most 123 bytes of UTF-8.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<String>) -> CloseFrame {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }

    pub(crate) fn into_frame(self) -> tungstenite::protocol::CloseFrame {
        tungstenite::protocol::CloseFrame {
            code: self.code.into(),
            reason: self.reason.into(),
        }
    }
}

/// A text frame's payload as a `String`, without copying it.
pub(crate) fn text_of(text: tungstenite::Utf8Bytes) -> String {
    let bytes: Vec<u8> = tungstenite::Bytes::from(text).into();
    // tungstenite checked the UTF-8 already; this check cannot fail and copies nothing.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
