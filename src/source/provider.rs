//! The `pages` table: a DataFusion [`TableProvider`] over dump files.
//!
//! The provider knows the dump format only through [`DumpFormat`]. Each
//! [`Split`] is one partition of [`PagesScanExec`]. A partition is decoded
//! on a blocking thread that hands batches to the query through a channel of
//! two batches, so a slow consumer throttles the reader and a 600 MB shard is
//! never held in memory. Projection, a `namespace` filter and `LIMIT` are
//! pushed into the decoder.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;

use super::format::{DecodeOptions, DumpFormat, ReadConfig, ReadError};
use super::schema::{pages_schema, NAMESPACE_COLUMN, PAGE_COLUMNS};
use super::stats::ReadStats;
use super::storage::Split;

/// The `pages` table.
#[derive(Debug)]
pub struct PagesTable {
    splits: Arc<[Split]>,
    format: Arc<dyn DumpFormat>,
    config: ReadConfig,
    stats: Arc<ReadStats>,
}

impl PagesTable {
    pub fn new(splits: Vec<Split>, format: Arc<dyn DumpFormat>, config: ReadConfig) -> Self {
        PagesTable {
            splits: splits.into(),
            format,
            config,
            stats: Arc::new(ReadStats::default()),
        }
    }

    pub fn splits(&self) -> &[Split] {
        &self.splits
    }

    /// Counters over every scan of this table.
    pub fn stats(&self) -> &Arc<ReadStats> {
        &self.stats
    }
}

#[async_trait]
impl TableProvider for PagesTable {
    fn schema(&self) -> SchemaRef {
        pages_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        // Inexact: DataFusion still applies the filter, so the decoder's
        // early skip is purely an optimization and can never change results.
        Ok(filters
            .iter()
            .map(|f| {
                if namespace_values(f).is_some() {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection = projection.cloned().unwrap_or_else(|| (0..PAGE_COLUMNS.len()).collect());
        let mut namespaces: Option<Vec<i32>> = None;
        for filter in filters {
            if let Some(values) = namespace_values(filter) {
                // Several filters are ANDed: keep the intersection.
                namespaces = Some(match namespaces {
                    None => values,
                    Some(prev) => prev.into_iter().filter(|v| values.contains(v)).collect(),
                });
            }
        }
        Ok(Arc::new(PagesScanExec::new(
            self.splits.clone(),
            self.format.clone(),
            DecodeOptions { projection, namespaces },
            limit,
            self.config.clone(),
            self.stats.clone(),
        )))
    }
}

/// The namespaces a filter keeps, if it is `namespace = n`, `namespace IN (..)`
/// or an OR of those.
fn namespace_values(expr: &Expr) -> Option<Vec<i32>> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (column, value) = if is_namespace_column(left) {
                (left, right)
            } else {
                (right, left)
            };
            if !is_namespace_column(column) {
                return None;
            }
            Some(vec![literal_i32(value)?])
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let mut values = namespace_values(left)?;
            values.extend(namespace_values(right)?);
            Some(values)
        }
        Expr::InList(in_list) if !in_list.negated && is_namespace_column(&in_list.expr) => {
            in_list.list.iter().map(literal_i32).collect()
        }
        _ => None,
    }
}

fn is_namespace_column(expr: &Expr) -> bool {
    match expr {
        Expr::Column(c) => c.name == NAMESPACE_COLUMN,
        Expr::Cast(c) => is_namespace_column(&c.expr),
        _ => false,
    }
}

fn literal_i32(expr: &Expr) -> Option<i32> {
    let Expr::Literal(value, _) = expr else { return None };
    match value {
        ScalarValue::Int8(Some(v)) => Some(i32::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i32::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(*v),
        ScalarValue::Int64(Some(v)) => i32::try_from(*v).ok(),
        ScalarValue::UInt8(Some(v)) => Some(i32::from(*v)),
        ScalarValue::UInt16(Some(v)) => Some(i32::from(*v)),
        ScalarValue::UInt32(Some(v)) => i32::try_from(*v).ok(),
        ScalarValue::UInt64(Some(v)) => i32::try_from(*v).ok(),
        _ => None,
    }
}

/// Scans the `pages` table: one partition per split.
#[derive(Debug)]
pub struct PagesScanExec {
    splits: Arc<[Split]>,
    format: Arc<dyn DumpFormat>,
    options: DecodeOptions,
    limit: Option<usize>,
    config: ReadConfig,
    stats: Arc<ReadStats>,
    properties: Arc<PlanProperties>,
}

impl PagesScanExec {
    fn new(
        splits: Arc<[Split]>,
        format: Arc<dyn DumpFormat>,
        options: DecodeOptions,
        limit: Option<usize>,
        config: ReadConfig,
        stats: Arc<ReadStats>,
    ) -> Self {
        let full = pages_schema();
        let fields: Vec<Field> = options.projection.iter().map(|&i| full.field(i).clone()).collect();
        let schema = Arc::new(Schema::new(fields));
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(splits.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        PagesScanExec {
            splits,
            format,
            options,
            limit,
            config,
            stats,
            properties: Arc::new(properties),
        }
    }

    /// The split each output partition reads, in partition order.
    pub fn splits(&self) -> &[Split] {
        &self.splits
    }
}

impl DisplayAs for PagesScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PagesScanExec: splits={}", self.splits.len())?;
        if matches!(t, DisplayFormatType::Verbose) {
            // Every split, its file, size and byte range: what a scaled-out
            // run keys its stages by (two plans reading other splits never
            // share exchange data).
            let splits: Vec<String> = self
                .splits
                .iter()
                .map(|s| {
                    let range = s.range.map(|r| format!("{}..{}", r.start, r.end)).unwrap_or_default();
                    format!("{}={}:{}[{range}]", s.label, s.location(), s.size)
                })
                .collect();
            write!(f, " [{}]", splits.join(", "))?;
        } else {
            let names: Vec<&str> = self.splits.iter().take(3).map(|s| s.label.as_str()).collect();
            write!(
                f,
                " [{}{}]",
                names.join(", "),
                if self.splits.len() > 3 { ", ..." } else { "" }
            )?;
        }
        write!(f, ", format={}", self.format.name())?;
        let columns: Vec<&str> = self.options.projection.iter().map(|&i| PAGE_COLUMNS[i].name).collect();
        write!(f, ", projection=[{}]", columns.join(", "))?;
        if let Some(namespaces) = &self.options.namespaces {
            write!(f, ", namespace IN {namespaces:?}")?;
        }
        if let Some(limit) = self.limit {
            write!(f, ", limit={limit}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for PagesScanExec {
    fn name(&self) -> &str {
        "PagesScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal("PagesScanExec has no children".into()))
        }
    }

    fn fetch(&self) -> Option<usize> {
        self.limit
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let schema = self.schema();
        let Some(split) = self.splits.get(partition).cloned() else {
            // No input at all: one empty partition.
            return Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::empty(),
            )));
        };
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<_>>(2);
        let options = self.options.clone();
        let limit = self.limit;
        let config = self.config.clone();
        let stats = self.stats.clone();
        let format = self.format.clone();
        let worker = tokio::task::spawn_blocking(move || {
            let outcome = format.read_split(&split, &options, limit, &config, &stats, &mut |batch| {
                sender.blocking_send(Ok(batch)).is_ok()
            });
            if let Err(ReadError::Failed(message)) = outcome {
                let _ = sender.blocking_send(Err(DataFusionError::Execution(message)));
            }
        });
        let batches = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
        // If the worker panicked, or never ran (its blocking task cancelled
        // as the runtime shuts down after SIGTERM), the channel just closes:
        // turn that into an error instead of a silently shorter table — a
        // writer must never commit a file that ended early.
        let worker_check = futures::stream::once(async move {
            match worker.await {
                Ok(()) => None,
                Err(e) if e.is_panic() => Some(Err(DataFusionError::Execution(format!("reader thread panicked: {e}")))),
                Err(e) => Some(Err(DataFusionError::Execution(format!("reader thread stopped: {e}")))),
            }
        })
        .filter_map(futures::future::ready);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            batches.chain(worker_check),
        )))
    }
}
