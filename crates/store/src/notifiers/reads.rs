//! Reading notifiers: one by id, or a page of a list query, from the caches when current.

use std::sync::Arc;

use bytes::Bytes;
use notifier_domain::ListQuery;
use notifier_persistence::notifiers;

use super::NotifierStore;
use crate::epochs::DataVersion;
use crate::{Error, PageParts, Result};

impl NotifierStore {
    /// A notifier's response body.
    pub async fn get(&self, id: i64) -> Result<Bytes> {
        if let Some(body) = self.items.get(id) {
            return Ok(body);
        }
        // A miss mostly means a cold cache (at start, or after a change made elsewhere):
        // read the neighbouring rows too while they fit, so warming costs one query per
        // block of ids instead of one per id.
        let _loading = self.loads.lock(&id.div_euclid(notifiers::BLOCK)).await;
        if let Some(body) = self.items.get(id) {
            return Ok(body);
        }
        let load = self.items.start_load();
        let rows = if self.items.has_room_for_a_block() {
            notifiers::get_block(&self.db, &self.secrets, id).await?
        } else {
            vec![notifiers::get(&self.db, &self.secrets, id).await?]
        };
        let mut wanted = None;
        let mut bodies = Vec::with_capacity(rows.len());
        for notifier in rows {
            let body = self.body(&notifier)?;
            if notifier.id == id {
                wanted = Some(body.clone());
            }
            bodies.push((notifier.id, body));
        }
        load.keep(bodies);
        wanted.ok_or(Error::NotFound)
    }

    /// One page of `query`, laid out by `assemble` from its parts. `key` names the
    /// response (two requests with one key get the same bytes): the caller's full URL,
    /// since the page's links carry it.
    pub async fn page(
        &self,
        query: &ListQuery,
        key: String,
        assemble: impl FnOnce(PageParts<'_>) -> Result<Bytes, serde_json::Error>,
    ) -> Result<Bytes> {
        let version = DataVersion::now(&self.epochs, &self.local_writes).await?;
        if let Some(body) = self.pages.get(&key, |seen| *seen == version) {
            return Ok(body);
        }
        let ids = self.matching_ids(query, &version).await?;
        let count = ids.len() as u64;
        let num_pages = Ord::max(count.div_ceil(query.page_size), 1);
        let number = query.page.unwrap_or(num_pages);
        if number > num_pages {
            return Err(Error::PageOutOfRange);
        }
        let first = usize::try_from((number - 1) * query.page_size).unwrap_or(usize::MAX);
        let on_page = ids
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take(usize::try_from(query.page_size).unwrap_or(usize::MAX));
        let results = self.item_bodies(on_page.copied().collect()).await?;
        let body = assemble(PageParts {
            count,
            number,
            num_pages,
            results: &results,
        })?;
        self.pages.insert(key, version, body.clone());
        Ok(body)
    }

    /// The query's ordered ids, shared by all its pages while the data stays as it is.
    async fn matching_ids(
        &self,
        query: &ListQuery,
        version: &DataVersion,
    ) -> Result<Arc<Vec<i64>>> {
        let selection = ListQuery {
            page: None,
            page_size: 0,
            ..query.clone()
        };
        let cached = || self.selections.get(&selection, |seen| seen == version);
        if let Some(ids) = cached() {
            return Ok(ids);
        }
        let _loading = self.loads.lock(&selection).await;
        if let Some(ids) = cached() {
            return Ok(ids);
        }
        let ids = Arc::new(notifiers::matching_ids(&self.db, query).await?);
        self.selections
            .insert(selection, version.clone(), Arc::clone(&ids));
        Ok(ids)
    }

    /// Each notifier's body, from the item cache or (those missing) one query. A row
    /// deleted since the ids were read is left out.
    async fn item_bodies(&self, ids: Vec<i64>) -> Result<Vec<Bytes>> {
        let mut bodies: Vec<Option<Bytes>> = ids.iter().map(|id| self.items.get(*id)).collect();
        let missing: Vec<i64> = ids
            .iter()
            .zip(&bodies)
            .filter(|(_, body)| body.is_none())
            .map(|(id, _)| *id)
            .collect();
        if !missing.is_empty() {
            let load = self.items.start_load();
            let mut loaded = Vec::with_capacity(missing.len());
            for notifier in notifiers::get_many(&self.db, &self.secrets, &missing).await? {
                let body = self.body(&notifier)?;
                if let Some(at) = ids.iter().position(|id| *id == notifier.id) {
                    bodies[at] = Some(body.clone());
                }
                loaded.push((notifier.id, body));
            }
            load.keep(loaded);
        }
        Ok(bodies.into_iter().flatten().collect())
    }
}
