//! A real SMTP server for the tests: it speaks enough of RFC 5321 for
//! lettre's client, and keeps every message it receives in memory.
use std::{
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The message with quoted-printable soft breaks and `=3D` undone.
    #[must_use]
    pub fn body(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The first link of the app's to `/{kind}/{token}` in the message.
    #[must_use]
    pub fn link(&self, kind: &str) -> Option<String> {
        let body = self.body();
        let start = body.find(&format!("/{kind}/"))?;
        let rest = &body[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

static SINK: OnceLock<SmtpSink> = OnceLock::new();

/// The suite's one SMTP server (started on first use, on its own thread so
/// it outlives each test's runtime); `SMTP_PORT` points the app at it.
pub fn sink() -> &'static SmtpSink {
    SINK.get_or_init(|| {
        let mails = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let store = mails.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("smtp runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
                tx.send(listener.local_addr().expect("addr").port())
                    .expect("send port");
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        continue;
                    };
                    let store = store.clone();
                    tokio::spawn(async move {
                        let _ = serve(socket, store).await;
                    });
                }
            });
        });
        let port = rx.recv().expect("smtp port");
        // SAFETY of intent: set once, before any app boots in this process.
        std::env::set_var("SMTP_PORT", port.to_string());
        SmtpSink { port, mails }
    })
}

async fn serve(socket: tokio::net::TcpStream, store: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 test-sink ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-test-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO")
            || upper.starts_with("MAIL FROM")
            || upper.starts_with("NOOP")
        {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO") {
            let addr = line[8..]
                .trim()
                .trim_start_matches(':')
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .to_lowercase();
            to.push(addr);
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            store.lock().expect("mail store").push(Mail {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

impl SmtpSink {
    #[must_use]
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        let address = address.to_lowercase();
        self.mails
            .lock()
            .expect("mail store")
            .iter()
            .filter(|m| m.to.contains(&address))
            .cloned()
            .collect()
    }

    /// Waits (20 seconds at most: mail goes out through the job queue,
    /// which a loaded 2-core machine can hold up for seconds) for the n-th
    /// mail to an address.
    pub async fn wait_for(&self, address: &str, count: usize) -> Mail {
        for _ in 0..400 {
            let mails = self.mails_to(address);
            if mails.len() >= count {
                return mails[count - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail #{count} arrived for {address}");
    }
}
