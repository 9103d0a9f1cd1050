//! What a client's mistakes may write to the log: nothing above debug level.
//!
//! actix-http logs every connection it closes on a request it cannot parse (garbage,
//! a bad header, a bad HTTP version, a slow or cut-off request) as
//! `ERROR actix_http::h1::dispatcher: stream error: ...`, so anyone could fill the log
//! with error lines. [`QuietClientErrors`] turns those into debug events under
//! `localidp::http`; real server faults stay errors.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

const DISPATCHER: &str = "actix_http::h1::dispatcher";
const STREAM_ERROR: &str = "stream error: ";
/// Characters of the dispatcher's message kept in the debug event.
const MAX_MESSAGE: usize = 200;

/// A layer that drops actix-http's per-connection "stream error" events and writes
/// them again at debug level.
pub struct QuietClientErrors;

impl<S: Subscriber> Layer<S> for QuietClientErrors {
    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        let meta = event.metadata();
        if *meta.level() != Level::ERROR || meta.target() != DISPATCHER {
            return true;
        }
        let mut message = Message::default();
        event.record(&mut message);
        match message.0.strip_prefix(STREAM_ERROR) {
            Some(error) => {
                let error: String = error.chars().take(MAX_MESSAGE).collect();
                tracing::debug!(
                    target: "localidp::http",
                    error = %error.escape_debug(),
                    "connection closed on a malformed or broken request"
                );
                false
            }
            None => true,
        }
    }
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex, OnceLock};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    /// The process-wide subscriber, as the server installs it (a scoped one would not
    /// see the debug event written from inside its own dispatch).
    fn global_log() -> &'static Captured {
        static LOG: OnceLock<Captured> = OnceLock::new();
        LOG.get_or_init(|| {
            let out = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter("info,localidp::http=debug")
                .with_writer(out.clone())
                .with_ansi(false)
                .finish()
                .with(QuietClientErrors);
            tracing::subscriber::set_global_default(subscriber).unwrap();
            out
        })
    }

    #[test]
    fn stream_errors_become_debug_and_other_errors_stay() {
        let log = global_log();
        let err = "request parse error: invalid Header provided";
        tracing::error!(target: "actix_http::h1::dispatcher", "stream error: {}", &err);
        tracing::error!(target: "actix_http::h1::dispatcher", "Response payload stream error: boom");
        tracing::error!(target: "localidp::db", "stream error: ours");
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let with = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
        assert_eq!(with("invalid Header"), 1, "{text}");
        assert_eq!(
            with(
                "DEBUG localidp::http: connection closed on a malformed or broken request error=request parse error: invalid Header provided"
            ),
            1,
            "{text}"
        );
        assert_eq!(
            with("ERROR actix_http::h1::dispatcher: Response payload stream error: boom"),
            1,
            "{text}"
        );
        assert_eq!(with("ERROR localidp::db: stream error: ours"), 1, "{text}");
    }
}
