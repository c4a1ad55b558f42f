//! Which queries can run one split at a time: those that work page by page.
//!
//! An engine (Ray, Spark) reads a dump as many independent read tasks, one
//! per split, and concatenates what they return. That is the query's answer
//! only when each page's rows depend on that page alone: projections,
//! filters, the tokenizer functions, `unnest`, `UNION ALL` of such branches.
//! Anything that looks across pages — an aggregate, a sort, `LIMIT`, a
//! window, a join, `DISTINCT`, a subquery — would be computed per split and
//! give a different answer, so it is refused with a message saying where it
//! belongs. So are rows that come from no page (`VALUES`): every split
//! would repeat them.

use anyhow::{bail, Result};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{LogicalPlan, TableScan};

/// Ok when `plan` (optimized) works page by page over the `pages` table;
/// `is_pages` tells a scan of that very table from others.
pub fn check_per_page(plan: &LogicalPlan, is_pages: &dyn Fn(&TableScan) -> bool) -> Result<()> {
    let mut refused: Option<String> = None;
    plan.apply(|node| {
        let allowed = match node {
            LogicalPlan::Projection(_)
            | LogicalPlan::Filter(_)
            | LogicalPlan::SubqueryAlias(_)
            | LogicalPlan::Unnest(_)
            | LogicalPlan::Union(_) => true,
            // A filter no row can pass, optimized away: no rows from any split.
            LogicalPlan::EmptyRelation(empty) => !empty.produce_one_row,
            LogicalPlan::TableScan(scan) => {
                if !is_pages(scan) {
                    refused = Some(format!("it reads the table {}, not pages", scan.table_name));
                    return Ok(TreeNodeRecursion::Stop);
                }
                true
            }
            _ => false,
        };
        if !allowed {
            refused = Some(format!("{} needs every page", describe(node)));
            return Ok(TreeNodeRecursion::Stop);
        }
        let mut has_subquery = false;
        node.apply_subqueries(|_| {
            has_subquery = true;
            Ok(TreeNodeRecursion::Stop)
        })?;
        if has_subquery {
            refused = Some("a subquery needs every page".to_string());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    if let Some(reason) = refused {
        bail!(
            "this query cannot run one split at a time: {reason}. A split's query works page by page \
             (SELECT, WHERE, the tokenizer functions, unnest); do the rest in the engine \
             (Ray's groupby/sort, Spark's groupBy/orderBy), or run it over the whole input with wikitok.sql"
        );
    }
    Ok(())
}

/// The SQL a plan node comes from, for the message.
fn describe(node: &LogicalPlan) -> String {
    match node {
        LogicalPlan::Aggregate(_) => "an aggregate (GROUP BY, count, sum, ...)".into(),
        LogicalPlan::Sort(_) => "ORDER BY".into(),
        LogicalPlan::Limit(_) => "LIMIT (use --max-pages for a sample)".into(),
        LogicalPlan::Window(_) => "a window function".into(),
        LogicalPlan::Join(_) => "a join".into(),
        LogicalPlan::Distinct(_) => "DISTINCT".into(),
        LogicalPlan::Repartition(_) => "a repartition".into(),
        LogicalPlan::Values(_) | LogicalPlan::EmptyRelation(_) => {
            "a row from no page (VALUES, or SELECT without FROM pages)".into()
        }
        other => format!("a {} step", other.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    fn named_pages(scan: &TableScan) -> bool {
        scan.table_name.table() == "pages"
    }

    async fn optimized(sql: &str) -> LogicalPlan {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE pages (page_id BIGINT, title VARCHAR, text VARCHAR, namespace INT) AS VALUES (1, 'a', 'b c', 0)")
            .await
            .unwrap();
        ctx.sql("CREATE TABLE other (page_id BIGINT) AS VALUES (1)")
            .await
            .unwrap();
        let plan = ctx.sql(sql).await.unwrap().into_unoptimized_plan();
        ctx.state().optimize(&plan).unwrap()
    }

    #[tokio::test]
    async fn page_by_page_queries_pass() {
        for sql in [
            "SELECT page_id, upper(title) AS t FROM pages WHERE namespace = 0 AND length(text) > 1",
            "SELECT * FROM pages",
            "SELECT p.page_id, unnest(string_to_array(p.text, ' ')) AS word FROM pages p",
            "SELECT page_id FROM (SELECT page_id, text FROM pages WHERE namespace IN (0, 14)) AS s",
            "WITH t AS (SELECT page_id, CASE WHEN namespace = 0 THEN title END AS t FROM pages) SELECT * FROM t",
            "SELECT page_id FROM pages WHERE 1 = 0",
            "SELECT page_id, title AS s FROM pages UNION ALL SELECT page_id, text AS s FROM pages WHERE namespace = 14",
        ] {
            check_per_page(&optimized(sql).await, &named_pages).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    #[tokio::test]
    async fn queries_across_pages_are_refused_saying_why() {
        for (sql, says) in [
            ("SELECT namespace, count(*) FROM pages GROUP BY namespace", "aggregate"),
            ("SELECT count(*) FROM pages", "aggregate"),
            ("SELECT page_id FROM pages ORDER BY page_id", "ORDER BY"),
            ("SELECT page_id FROM pages LIMIT 3", "LIMIT"),
            ("SELECT DISTINCT title FROM pages", "aggregate"),
            ("SELECT page_id, row_number() OVER () FROM pages", "window"),
            (
                "SELECT p.page_id FROM pages p JOIN other o ON p.page_id = o.page_id",
                "join",
            ),
            ("SELECT page_id FROM other", "reads the table"),
            ("SELECT page_id FROM pages UNION SELECT page_id FROM pages", "aggregate"),
            ("SELECT page_id FROM pages UNION ALL VALUES (7)", "no page"),
            ("SELECT 1 AS one", "no page"),
            (
                "SELECT page_id FROM pages WHERE page_id > (SELECT avg(page_id) FROM pages)",
                "needs every page",
            ),
        ] {
            let error = check_per_page(&optimized(sql).await, &named_pages)
                .expect_err(sql)
                .to_string();
            assert!(error.contains(says), "{sql}: {error}");
            assert!(error.contains("one split at a time"), "{sql}: {error}");
        }
    }
}
