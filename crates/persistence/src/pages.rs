//! What the paginated lists and the retention sweeps share.

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait};

use crate::{Error, Result, Writer};

/// The page number `requested` (`None`: the last) names among `count` items cut into
/// pages of `page_size`; `None` when it is past the last (the first always exists).
pub(crate) fn page_number(count: u64, page_size: u64, requested: Option<u64>) -> Option<u64> {
    let last = Ord::max(count.div_ceil(page_size), 1);
    let number = requested.unwrap_or(last);
    (number <= last).then_some(number)
}

/// Deletes the rows whose `id` the subquery `ids` selects (a batch of old ones), through
/// the writer; how many went.
pub(crate) async fn delete_selected<E: EntityTrait>(
    writer: &Writer,
    id: E::Column,
    ids: SelectStatement,
) -> Result<u64> {
    let mut delete = E::delete_many().filter(id.in_subquery(ids)).into_query();
    delete.returning_col(id);
    let written = writer
        .execute(writer.backend().build(&delete))
        .await
        .map_err(Error::from)?;
    Ok(written.rows.len() as u64)
}
