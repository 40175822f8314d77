//! The backbone between nodes: sealed envelopes ([`tabadul_federation::Sealed`]) carried by
//! NATS JetStream. Only streams and pull consumers are used, so Debian's nats-server 2.9 works
//! (no key-value buckets, one filter subject per consumer).
//!
//! - Stream [`STREAM`] holds every message, on subjects under `tabadul.v1.`, in files, for
//!   [`RETENTION`] (limits retention: a partner that is away longer catches up by asking its
//!   origins, not the stream). Each message carries the origin and the signature in headers and
//!   the signed bytes as payload; its `Nats-Msg-Id` names the stream it belongs to, the number
//!   in it and a prefix of the signature, so JetStream drops a re-published copy within
//!   [`DUPLICATE_WINDOW`] while a forgery with the same number cannot suppress the genuine one.
//!   Who may publish on which subjects is NATS's own configuration (accounts and permissions:
//!   a node publishes only on `tabadul.v1.env.*.<its agency>`, `tabadul.v1.post.<its agency>.>`
//!   and reads only its own; a post publishes only on `tabadul.v1.up.<agency>.<post>`).
//! - Subjects: `tabadul.v1.env.<partner>.<origin>`, an origin's envelopes to a partner node;
//!   `tabadul.v1.post.<agency>.<origin>`, what a national node passes to its border posts (its
//!   own alerts, and its partners' envelopes unchanged); `tabadul.v1.up.<agency>.<post>`, a
//!   border post's reports to its national node. A national node's directory (agencies and
//!   agreements) for its posts travels on `tabadul.v1.post.<agency>.directory`, and its
//!   snapshots of partners' alerts for a new post on `tabadul.v1.post.<agency>.snapshot`, each
//!   marked by a `Tabadul-Kind` header.
//! - A node reads its envelopes through a durable pull consumer `node-<agency>` and its posts'
//!   reports through `up-<agency>`; a border post reads through `post-<agency>-<post>` (every
//!   post of an agency reads the same messages, each at its own pace). Each acks a message
//!   once applied, and so resumes where it stopped after a restart or a partition.
//!
//! The backbone carries bytes and proves nothing: the receiver verifies every envelope
//! ([`tabadul_federation::open`]) against the keys of its partner nodes, and every report
//! ([`tabadul_federation::open_report`]) against its post's key.

pub mod throwaway;

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt;
use tabadul_domain::AgencyCode;
use tabadul_federation::{Directory, Envelope, PostName, Report, Sealed, Snapshot};

pub const STREAM: &str = "TABADUL";
/// Every subject of the stream is under this.
pub const SUBJECT_ROOT: &str = "tabadul.v1";
/// Envelopes between partner nodes.
pub const SUBJECT_PREFIX: &str = "tabadul.v1.env";
/// What national nodes pass to their border posts.
pub const POST_PREFIX: &str = "tabadul.v1.post";
/// Border posts' reports to their national nodes.
pub const UP_PREFIX: &str = "tabadul.v1.up";
/// How long the stream keeps an envelope.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Within this time JetStream keeps one copy of an envelope published twice.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Largest envelope carried, in bytes (as [`tabadul_federation::envelope::ENVELOPE_BYTES_MAX`]).
pub const MESSAGE_BYTES_MAX: i32 = 256 * 1024;

/// Messages published before waiting for JetStream to acknowledge them, at most.
pub const PUBLISH_WINDOW: usize = 256;

/// Messages a consumer delivers before those are acknowledged, at most: a node applies several
/// batches between two saves of its state and acknowledges them together.
pub const ACK_PENDING_MAX: i64 = 20_000;

const ORIGIN_HEADER: &str = "Tabadul-Origin";
const SIGNATURE_HEADER: &str = "Tabadul-Signature";
const POST_HEADER: &str = "Tabadul-Post";
/// Set on a national node's directory for its posts.
const KIND_HEADER: &str = "Tabadul-Kind";
const DIRECTORY_KIND: &str = "directory";
/// Set on a national node's snapshot of a partner's alerts, for a new post.
const SNAPSHOT_KIND: &str = "snapshot";

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
    /// For a report: the post that sent it.
    pub post: Option<PostName>,
    /// Whether it is a national node's directory (for its posts) rather than an envelope.
    pub directory: bool,
    /// Whether it is a part of a national node's snapshot of a partner's alerts.
    pub snapshot: bool,
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
    post: Option<PostName>,
    jetstream: jetstream::Context,
    consumer: jetstream::consumer::Consumer<pull::Config>,
    /// A national node's: its posts' reports.
    reports: Option<jetstream::consumer::Consumer<pull::Config>>,
}

impl Backbone {
    pub async fn connect(url: &str, me: AgencyCode) -> Result<Backbone> {
        Backbone::connect_with(url, me, None).await
    }

    /// Connects as the node of agency `me`, with mutual TLS if given `tls`.
    pub async fn connect_with(url: &str, me: AgencyCode, tls: Option<&Tls>) -> Result<Backbone> {
        Backbone::connect_as(url, me, None, tls).await
    }

    /// Connects as the node of agency `me` or, with `post`, as that border post of it.
    pub async fn connect_as(url: &str, me: AgencyCode, post: Option<PostName>, tls: Option<&Tls>) -> Result<Backbone> {
        let name = match &post {
            Some(post) => format!("tabadul {me} post {post}"),
            None => format!("tabadul {me}"),
        };
        let mut options = async_nats::ConnectOptions::new().name(name).connection_timeout(Duration::from_secs(5));
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
        // Created, or brought to this configuration (a stream of an earlier release carried
        // only `tabadul.v1.env.>`).
        jetstream
            .create_or_update_stream(stream::Config {
                name: STREAM.to_string(),
                subjects: vec![format!("{SUBJECT_ROOT}.>")],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: RETENTION,
                duplicate_window: DUPLICATE_WINDOW,
                max_message_size: MESSAGE_BYTES_MAX,
                ..Default::default()
            })
            .await
            .map_err(jetstream_error)?;
        let stream = jetstream.get_stream(STREAM).await.map_err(jetstream_error)?;
        let consumer = |durable: String, filter: String| {
            let stream = &stream;
            async move {
                stream
                    .get_or_create_consumer(
                        &durable,
                        pull::Config {
                            durable_name: Some(durable.clone()),
                            filter_subject: filter,
                            ack_policy: jetstream::consumer::AckPolicy::Explicit,
                            ack_wait: Duration::from_secs(30),
                            max_ack_pending: ACK_PENDING_MAX,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(jetstream_error)
            }
        };
        let (main, reports) = match &post {
            Some(post) => (consumer(format!("post-{me}-{post}"), format!("{POST_PREFIX}.{me}.>")).await?, None),
            None => (
                consumer(format!("node-{me}"), format!("{SUBJECT_PREFIX}.{me}.>")).await?,
                Some(consumer(format!("up-{me}"), format!("{UP_PREFIX}.{me}.>")).await?),
            ),
        };
        Ok(Backbone { me, post, jetstream, consumer: main, reports })
    }

    pub fn me(&self) -> &AgencyCode {
        &self.me
    }

    /// Publishes an envelope to its partner and waits until JetStream has stored it.
    pub async fn publish(&self, envelope: &Envelope, sealed: &Sealed) -> Result<()> {
        self.publish_all(std::iter::once((envelope, sealed))).await
    }

    /// Publishes envelopes in order, [`PUBLISH_WINDOW`] at a time before waiting for
    /// JetStream's acknowledgements: one round trip per window, not per envelope. All are
    /// stored when this returns `Ok`.
    pub async fn publish_all<'a>(&self, envelopes: impl IntoIterator<Item = (&'a Envelope, &'a Sealed)>) -> Result<()> {
        self.send_all(envelopes.into_iter().map(|(envelope, sealed)| Message {
            subject: subject(&envelope.partner, &envelope.origin),
            origin: &envelope.origin,
            post: None,
            kind: None,
            id: format!("{}.{}.{}", envelope.origin, envelope.partner, envelope.seq),
            sealed,
        }))
        .await
    }

    /// Passes an envelope of `origin` (this node's own, or a partner's as received) to this
    /// node's border posts, unchanged.
    pub async fn relay(&self, origin: &AgencyCode, seq: u64, sealed: &Sealed) -> Result<()> {
        self.relay_all(std::iter::once((origin, seq, sealed))).await
    }

    /// [`Backbone::relay`] of several envelopes (origin, number, sealed bytes), pipelined like
    /// [`Backbone::publish_all`].
    pub async fn relay_all<'a>(
        &self,
        envelopes: impl IntoIterator<Item = (&'a AgencyCode, u64, &'a Sealed)>,
    ) -> Result<()> {
        self.send_all(envelopes.into_iter().map(|(origin, seq, sealed)| Message {
            subject: format!("{POST_PREFIX}.{}.{origin}", self.me),
            origin,
            post: None,
            kind: None,
            id: format!("post.{}.{origin}.{seq}", self.me),
            sealed,
        }))
        .await
    }

    /// Publishes this national node's directory (agencies and agreements) to its posts.
    pub async fn relay_directory(&self, directory: &Directory, sealed: &Sealed) -> Result<()> {
        let id = format!("dir.{}.{}", self.me, directory.seq);
        self.send_to_posts(DIRECTORY_KIND, &directory.agency, id, sealed).await
    }

    /// Publishes a part of a snapshot of a partner's alerts to this national node's posts.
    pub async fn relay_snapshot(&self, snapshot: &Snapshot, sealed: &Sealed) -> Result<()> {
        let id = format!("snap.{}.{}.{}.{}", self.me, snapshot.origin, snapshot.position, snapshot.part);
        self.send_to_posts(SNAPSHOT_KIND, &snapshot.agency, id, sealed).await
    }

    /// Publishes one sealed document of `kind` (a directory, a snapshot part) to this national
    /// node's posts, once under `id`.
    async fn send_to_posts(&self, kind: &'static str, origin: &AgencyCode, id: String, sealed: &Sealed) -> Result<()> {
        self.send_all([Message {
            subject: format!("{POST_PREFIX}.{}.{kind}", self.me),
            origin,
            post: None,
            kind: Some(kind),
            id,
            sealed,
        }])
        .await
    }

    /// Publishes a border post's report to its national node.
    pub async fn report(&self, report: &Report, sealed: &Sealed) -> Result<()> {
        self.send_all([Message {
            subject: format!("{UP_PREFIX}.{}.{}", report.agency, report.post),
            origin: &report.agency,
            post: Some(&report.post),
            kind: None,
            id: format!("up.{}.{}.{}", report.agency, report.post, report.seq),
            sealed,
        }])
        .await
    }

    /// Sends messages in order, [`PUBLISH_WINDOW`] before waiting for their acknowledgements;
    /// all are stored when this returns `Ok`.
    async fn send_all<'a>(&self, messages: impl IntoIterator<Item = Message<'a>>) -> Result<()> {
        let mut pending = Vec::new();
        for message in messages {
            pending.push(self.start(message).await?);
            if pending.len() >= PUBLISH_WINDOW {
                settle(&mut pending).await?;
            }
        }
        settle(&mut pending).await
    }

    /// Sends a message; the future it gives resolves when JetStream has stored it.
    async fn start(&self, message: Message<'_>) -> Result<jetstream::context::PublishAckFuture> {
        let Message { subject, origin, post, kind, id, sealed } = message;
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN_HEADER, origin.as_str());
        if let Some(kind) = kind {
            headers.insert(KIND_HEADER, kind);
        }
        if let Some(post) = post {
            headers.insert(POST_HEADER, post.as_str());
        }
        headers.insert(SIGNATURE_HEADER, hex::encode(sealed.signature).as_str());
        let tag = hex::encode(&sealed.signature[..8]);
        headers.insert(async_nats::header::NATS_MESSAGE_ID, format!("{id}.{tag}").as_str());
        self.jetstream
            .publish_with_headers(subject, headers, sealed.bytes.clone().into())
            .await
            .map_err(jetstream_error)
    }

    /// The border post this backbone connects, if it is one.
    pub fn post(&self) -> Option<&PostName> {
        self.post.as_ref()
    }

    /// How many delivered messages may wait for their acknowledgement (a consumer made by an
    /// earlier release may allow fewer than [`ACK_PENDING_MAX`]).
    pub fn ack_pending_max(&self) -> usize {
        usize::try_from(self.consumer.cached_info().config.max_ack_pending).unwrap_or(0)
    }

    /// Up to `max` messages for this node (a post: from its national node), waiting at most
    /// `wait` for the first.
    pub async fn fetch(&self, max: usize, wait: Duration) -> Result<Vec<Result<Delivery>>> {
        fetch(&self.consumer, max, wait).await
    }

    /// Up to `max` reports of this node's border posts (none for a post).
    pub async fn fetch_reports(&self, max: usize, wait: Duration) -> Result<Vec<Result<Delivery>>> {
        match &self.reports {
            Some(consumer) => fetch(consumer, max, wait).await,
            None => Ok(Vec::new()),
        }
    }
}

/// One message to send: its subject, headers (origin, post, kind), the first part of its
/// `Nats-Msg-Id` (a prefix of the signature is added), and the signed bytes.
struct Message<'a> {
    subject: String,
    origin: &'a AgencyCode,
    post: Option<&'a PostName>,
    kind: Option<&'static str>,
    id: String,
    sealed: &'a Sealed,
}

/// Waits for JetStream to have stored every message of `pending`.
async fn settle(pending: &mut Vec<jetstream::context::PublishAckFuture>) -> Result<()> {
    for ack in pending.drain(..) {
        ack.await.map_err(jetstream_error)?;
    }
    Ok(())
}

async fn fetch(
    consumer: &jetstream::consumer::Consumer<pull::Config>,
    max: usize,
    wait: Duration,
) -> Result<Vec<Result<Delivery>>> {
    let mut messages = consumer.fetch().max_messages(max).expires(wait).messages().await.map_err(jetstream_error)?;
    let mut deliveries = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.map_err(jetstream_error)?;
        deliveries.push(delivery(message).await);
    }
    Ok(deliveries)
}

async fn delivery(message: jetstream::Message) -> Result<Delivery> {
    let subject = message.subject.to_string();
    let header = |name: &str| message.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_string());
    let kind = header(KIND_HEADER);
    let directory = kind.as_deref() == Some(DIRECTORY_KIND);
    let snapshot = kind.as_deref() == Some(SNAPSHOT_KIND);
    let read = || -> std::result::Result<(AgencyCode, Option<PostName>, [u8; 64]), String> {
        let origin = header(ORIGIN_HEADER).ok_or("no origin header")?;
        let origin = AgencyCode::new(&origin).map_err(|e| e.to_string())?;
        let post = header(POST_HEADER).map(|post| PostName::new(&post)).transpose()?;
        let signature = header(SIGNATURE_HEADER).ok_or("no signature header")?;
        let signature: [u8; 64] = hex::decode(signature)
            .map_err(|e| e.to_string())?
            .try_into()
            .map_err(|_| "a signature is 64 bytes".to_string())?;
        Ok((origin, post, signature))
    };
    match read() {
        Ok((origin, post, signature)) => {
            let sealed = Sealed { bytes: message.payload.to_vec(), signature };
            Ok(Delivery { origin, post, directory, snapshot, sealed, message })
        }
        Err(why) => {
            let _ = message.ack().await;
            Err(BackboneError::Malformed { subject, why })
        }
    }
}
