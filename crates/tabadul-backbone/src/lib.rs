//! The backbone between nodes: sealed envelopes ([`tabadul_federation::Sealed`]) carried by
//! NATS JetStream. Only streams and pull consumers are used, so Debian's nats-server 2.9 works
//! (no key-value buckets).
//!
//! - Stream [`STREAM`] holds every envelope, on subjects `tabadul.v1.env.<partner>.<origin>`,
//!   in files, for [`RETENTION`] (limits retention: a partner that is away longer catches up by
//!   asking its origins, not the stream). Each message carries the origin and the signature in
//!   headers and the envelope's exact bytes as payload; its `Nats-Msg-Id` is
//!   `<origin>.<partner>.<seq>.<signature prefix>`, so JetStream drops a re-published copy within
//!   [`DUPLICATE_WINDOW`] while a forgery with the same number cannot suppress the genuine one.
//!   Who may publish on which subjects is NATS's own configuration (accounts and permissions:
//!   a node publishes only on `tabadul.v1.env.*.<its agency>` and reads only its own).
//! - Each node reads its own subjects through a durable pull consumer `node-<agency>`, acks an
//!   envelope once applied, and so resumes where it stopped after a restart or a partition.
//!
//! The backbone carries bytes and proves nothing: the receiver verifies every envelope
//! ([`tabadul_federation::open`]) against the keys of its partner nodes.

pub mod throwaway;

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt;
use tabadul_domain::AgencyCode;
use tabadul_federation::{Envelope, Sealed};

pub const STREAM: &str = "TABADUL";
pub const SUBJECT_PREFIX: &str = "tabadul.v1.env";
/// How long the stream keeps an envelope.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Within this time JetStream keeps one copy of an envelope published twice.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Largest envelope carried, in bytes (as [`tabadul_federation::envelope::ENVELOPE_BYTES_MAX`]).
pub const MESSAGE_BYTES_MAX: i32 = 256 * 1024;

const ORIGIN_HEADER: &str = "Tabadul-Origin";
const SIGNATURE_HEADER: &str = "Tabadul-Signature";

#[derive(Debug, thiserror::Error)]
pub enum BackboneError {
    #[error("cannot reach NATS at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("NATS JetStream: {0}")]
    JetStream(String),
    #[error("a message on {subject} is not an envelope: {why}")]
    Malformed { subject: String, why: String },
}

pub type Result<T, E = BackboneError> = std::result::Result<T, E>;

fn jetstream_error(error: impl std::fmt::Display) -> BackboneError {
    BackboneError::JetStream(error.to_string())
}

/// The subject of envelopes from `origin` to `partner`.
pub fn subject(partner: &AgencyCode, origin: &AgencyCode) -> String {
    format!("{SUBJECT_PREFIX}.{partner}.{origin}")
}

/// The files of a node's mutual TLS with NATS (PEM).
#[derive(Debug, Clone)]
pub struct Tls {
    /// The authority that signed the NATS server's certificate.
    pub ca: std::path::PathBuf,
    /// The node's certificate and key, which the server verifies.
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// An envelope received, not yet acknowledged.
pub struct Delivery {
    /// The origin the message names (the receiver verifies the signature against its key).
    pub origin: AgencyCode,
    pub sealed: Sealed,
    message: jetstream::Message,
}

impl Delivery {
    /// Tells JetStream that the envelope was applied: it is not delivered again.
    pub async fn ack(self) -> Result<()> {
        self.message.ack().await.map_err(jetstream_error)
    }

    /// Tells JetStream that the envelope could not be applied yet (it came early): it is
    /// delivered again.
    pub async fn nak(self) -> Result<()> {
        self.message.ack_with(jetstream::AckKind::Nak(Some(Duration::from_millis(200)))).await.map_err(jetstream_error)
    }
}

/// A node's connection to the backbone.
pub struct Backbone {
    me: AgencyCode,
    jetstream: jetstream::Context,
    consumer: jetstream::consumer::Consumer<pull::Config>,
}

impl Backbone {
    /// Connects to NATS at `url` as node `me`, making the stream and the node's consumer if
    /// they are missing.
    pub async fn connect(url: &str, me: AgencyCode) -> Result<Backbone> {
        Backbone::connect_with(url, me, None).await
    }

    /// [`Backbone::connect`] over mutual TLS when `tls` is given: the server's certificate must
    /// chain to `tls.ca`, and the node shows its own.
    pub async fn connect_with(url: &str, me: AgencyCode, tls: Option<&Tls>) -> Result<Backbone> {
        let mut options =
            async_nats::ConnectOptions::new().name(format!("tabadul {me}")).connection_timeout(Duration::from_secs(5));
        if let Some(tls) = tls {
            for path in [&tls.ca, &tls.cert, &tls.key] {
                if !path.is_file() {
                    return Err(BackboneError::Connect {
                        url: url.to_string(),
                        message: format!("no TLS file {}", path.display()),
                    });
                }
            }
            options = options
                .require_tls(true)
                .add_root_certificates(tls.ca.clone())
                .add_client_certificate(tls.cert.clone(), tls.key.clone());
        }
        let client = options
            .connect(url)
            .await
            .map_err(|e| BackboneError::Connect { url: url.to_string(), message: e.to_string() })?;
        let jetstream = jetstream::new(client);
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: STREAM.to_string(),
                subjects: vec![format!("{SUBJECT_PREFIX}.>")],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: RETENTION,
                duplicate_window: DUPLICATE_WINDOW,
                max_message_size: MESSAGE_BYTES_MAX,
                ..Default::default()
            })
            .await
            .map_err(jetstream_error)?;
        let durable = format!("node-{me}");
        let consumer = stream
            .get_or_create_consumer(
                &durable,
                pull::Config {
                    durable_name: Some(durable.clone()),
                    filter_subject: format!("{SUBJECT_PREFIX}.{me}.>"),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    ..Default::default()
                },
            )
            .await
            .map_err(jetstream_error)?;
        Ok(Backbone { me, jetstream, consumer })
    }

    pub fn me(&self) -> &AgencyCode {
        &self.me
    }

    /// Publishes a sealed envelope (of `envelope`, which names its partner and number) and
    /// waits until JetStream has stored it.
    pub async fn publish(&self, envelope: &Envelope, sealed: &Sealed) -> Result<()> {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN_HEADER, envelope.origin.as_str());
        headers.insert(SIGNATURE_HEADER, hex::encode(sealed.signature).as_str());
        // The signature is part of the id: a genuine envelope published again (the same bytes,
        // the same deterministic signature) is stored once, but a forgery with the same number
        // cannot make JetStream drop the genuine one as its duplicate.
        let tag = hex::encode(&sealed.signature[..8]);
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("{}.{}.{}.{tag}", envelope.origin, envelope.partner, envelope.seq).as_str(),
        );
        let subject = subject(&envelope.partner, &envelope.origin);
        let ack = self
            .jetstream
            .publish_with_headers(subject, headers, sealed.bytes.clone().into())
            .await
            .map_err(jetstream_error)?;
        ack.await.map_err(jetstream_error)?;
        Ok(())
    }

    /// Up to `max` envelopes for this node, waiting at most `wait` for the first.
    pub async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Result<Delivery>>> {
        let mut messages =
            self.consumer.fetch().max_messages(max).expires(wait).messages().await.map_err(jetstream_error)?;
        let mut deliveries = Vec::new();
        while let Some(message) = messages.next().await {
            let message = message.map_err(jetstream_error)?;
            deliveries.push(delivery(message).await);
        }
        Ok(deliveries)
    }
}

/// Reads a message as an envelope; a message that is not one is acknowledged (so that it does
/// not come back) and reported.
async fn delivery(message: jetstream::Message) -> Result<Delivery> {
    let subject = message.subject.to_string();
    let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_string());
    let read = || -> std::result::Result<(AgencyCode, [u8; 64]), String> {
        let origin = header(ORIGIN_HEADER).ok_or("no origin header")?;
        let origin = AgencyCode::new(&origin).map_err(|e| e.to_string())?;
        let signature = header(SIGNATURE_HEADER).ok_or("no signature header")?;
        let signature: [u8; 64] = hex::decode(signature)
            .map_err(|e| e.to_string())?
            .try_into()
            .map_err(|_| "a signature is 64 bytes".to_string())?;
        Ok((origin, signature))
    };
    match read() {
        Ok((origin, signature)) => {
            let sealed = Sealed { bytes: message.payload.to_vec(), signature };
            Ok(Delivery { origin, sealed, message })
        }
        Err(why) => {
            let _ = message.ack().await;
            Err(BackboneError::Malformed { subject, why })
        }
    }
}
