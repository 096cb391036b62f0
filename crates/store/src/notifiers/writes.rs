//! Creating, changing and deleting notifiers, and what every write does afterwards.

use bytes::Bytes;
use notifier_domain::{AuditContext, FieldErrors, NewNotifier, NotifierChanges};
use notifier_persistence::{Error as DbError, dkim, notifiers};
use serde_json::{Map, Value};

use super::{Created, NotifierStore};
use crate::{Error, Result};
use notifier_domain::{Notifier, Password};

impl NotifierStore {
    /// Creates a notifier; its audit record commits with it.
    pub async fn create(&self, new: NewNotifier, audit: &AuditContext) -> Result<Created> {
        let written = notifiers::create(&self.writer, &self.secrets, new, audit).await;
        // Ids are never reused, so no cached body can be stale. The new body is not cached
        // until first read: caching every create would grow memory with each one (a bulk
        // import of 100,000 notifiers: about 100 MB) for reads that may never come.
        let (notifier, _) = match written {
            Ok(written) => written,
            Err(e) => {
                // It may have committed: list pages computed before now are retired.
                self.local_writes.record();
                return Err(e.into());
            }
        };
        self.changed(notifier.id);
        Ok(Created {
            id: notifier.id,
            body: self.body(&notifier)?,
        })
    }

    /// Applies a PATCH or PUT; the notifier's new body.
    pub async fn update(
        &self,
        id: i64,
        changes: NotifierChanges,
        audit: &AuditContext,
    ) -> Result<Bytes> {
        // A notifier that signs with DKIM keeps its from_email inside the signing domain.
        // (No row for an unknown id: the update below answers its 404.)
        if let Some(from_email) = &changes.from_email
            && let Some(domain) = dkim::domain(&self.db, id).await?
            && !notifier_domain::dkim::covers(&domain, from_email)
        {
            return Err(Error::Invalid(FieldErrors::single(
                "from_email",
                notifier_domain::dkim::FROM_EMAIL_OUTSIDE_DKIM,
            )));
        }
        let known = self.items.get(id).and_then(|body| known_from(&body));
        let written =
            notifiers::update(&self.writer, &self.secrets, id, changes, audit, known).await;
        let (notifier, epoch) = self.unless_failed(id, written)?;
        let body = self.body(&notifier);
        self.items.wrote(id, epoch, body.as_ref().ok().cloned());
        self.changed(id);
        body
    }

    pub async fn delete(&self, id: i64, audit: &AuditContext) -> Result<()> {
        let deleted = notifiers::delete(&self.writer, id, audit).await;
        let epoch = self.unless_failed(id, deleted)?;
        self.items.wrote(id, epoch, None);
        self.changed(id);
        Ok(())
    }

    /// Why a create (`id` None) or an update of `id` was refused: DRF looks the notifier
    /// up before validating (an unknown id is 404 whatever the body), and reports a taken
    /// name together with the other field errors.
    pub async fn refused(
        &self,
        id: Option<i64>,
        body: &Map<String, Value>,
        errors: FieldErrors,
    ) -> Error {
        if let Some(id) = id
            && let Err(e) = notifiers::get(&self.db, &self.secrets, id).await
        {
            return e.into();
        }
        if errors.has("name") {
            return Error::Invalid(errors);
        }
        let name = body
            .get("name")
            .map(|value| Map::from_iter([("name".to_owned(), value.clone())]));
        let name =
            name.and_then(|only_name| notifier_domain::parse_partial_update(&only_name).ok()?.name);
        let Some(name) = name else {
            return Error::Invalid(errors);
        };
        match notifiers::name_taken(&self.db, &name, id).await {
            Ok(true) => Error::Invalid(errors.with_name_taken()),
            Ok(false) => Error::Invalid(errors),
            Err(e) => e.into(),
        }
    }

    /// A failed write of notifier `id`: unless it certainly changed nothing, nothing cached
    /// about the notifier is trusted again (it may have committed). On success the caller
    /// updates the item cache and then calls [`Self::changed`].
    fn unless_failed<T>(&self, id: i64, written: notifier_persistence::Result<T>) -> Result<T> {
        match written {
            Ok(value) => Ok(value),
            Err(e) if changed_nothing(&e) => {
                self.local_writes.record();
                Err(e.into())
            }
            Err(e) => {
                self.items.wrote_unknown(id);
                self.changed(id);
                Err(e.into())
            }
        }
    }

    /// Last step of every write, once the item cache holds its outcome: list pages computed
    /// before it are retired (the local write count moves) and the change hooks hear of it.
    fn changed(&self, id: i64) {
        self.local_writes.record();
        self.hooks.changed(id);
    }
}

/// Failures that certainly wrote nothing; any other may or may not have committed.
fn changed_nothing(error: &DbError) -> bool {
    matches!(
        error,
        DbError::NotFound | DbError::NameTaken | DbError::PasswordRequired
    )
}

/// A cached body read back as the notifier it shows (the password is never in it). It
/// saves an update reading the row for its audit record; the write checks it is still so.
fn known_from(body: &[u8]) -> Option<Notifier> {
    let shown: Value = serde_json::from_slice(body).ok()?;
    let text = |field: &str| shown[field].as_str().map(str::to_owned);
    let flag = |field: &str| shown[field].as_bool();
    let time = |field: &str| shown[field].as_str()?.parse().ok();
    Some(Notifier {
        id: shown["id"].as_i64()?,
        name: text("name")?,
        host: text("host")?,
        port: u16::try_from(shown["port"].as_u64()?).ok()?,
        username: text("username")?,
        password: Password::new(String::new()),
        from_email: text("from_email")?,
        use_tls: flag("use_tls")?,
        use_ssl: flag("use_ssl")?,
        fail_silently: flag("fail_silently")?,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
    })
}
