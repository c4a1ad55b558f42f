//! Cutting a physical plan into stages at its exchanges.
//!
//! DataFusion's physical plan already says where rows must meet rows of
//! other partitions: a hash `RepartitionExec` (before a final aggregate, a
//! partitioned join, a window), a `CoalescePartitionsExec` and a
//! `SortPreservingMergeExec` (before a global sort, limit or single
//! aggregate), a round-robin `RepartitionExec`. Below such a node, every
//! partition works on its own — decode, render, tokenize, the partial
//! aggregate — so each becomes a map task any process can run. The node's
//! input is replaced by an [`ExchangeReaderExec`] over the map tasks' files
//! (a repartition is replaced as a whole: the map tasks already divide
//! their rows, each reduce task reads only its own). Apache Ballista's planner cuts at the same places.
//!
//! Stages are listed children first: when a stage runs, every stage it
//! reads has finished.

use std::sync::Arc;

use crate::destination::Destination;

use datafusion::common::Result;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};

use super::exchange::{ExchangeKind, ExchangeReaderExec};

/// A part of the plan whose partitions are map tasks writing exchange files.
#[derive(Debug, Clone)]
pub struct Stage {
    pub id: usize,
    /// With the stages below it already replaced by readers.
    pub plan: Arc<dyn ExecutionPlan>,
    pub kind: ExchangeKind,
    /// Where its exchange files and task markers go.
    pub dir: Destination,
    /// Everything that decides its tasks — its plan (every scan's files
    /// and byte ranges included), the task count and the exchange —
    /// fingerprinted. Map tasks record it in their done markers, and the
    /// reader refuses map outputs of any other key.
    pub key: String,
}

impl Stage {
    pub fn tasks(&self) -> usize {
        self.plan.output_partitioning().partition_count()
    }
}

/// A plan cut at its exchanges: the stages to run first, in order, and the
/// final plan (what the COPY writes), reading the last of them.
#[derive(Debug)]
pub struct StagedPlan {
    pub stages: Vec<Stage>,
    pub last: Arc<dyn ExecutionPlan>,
}

/// Cuts `plan` into stages whose files go under `root/stage-NNN`.
pub fn cut(plan: Arc<dyn ExecutionPlan>, root: &Destination) -> Result<StagedPlan> {
    let mut stages = Vec::new();
    let last = cut_node(plan, root, &mut stages)?;
    Ok(StagedPlan { stages, last })
}

fn cut_node(
    node: Arc<dyn ExecutionPlan>,
    root: &Destination,
    stages: &mut Vec<Stage>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let children: Vec<Arc<dyn ExecutionPlan>> = node.children().into_iter().cloned().collect();
    if children.is_empty() {
        return Ok(node);
    }
    let children = children
        .into_iter()
        .map(|child| cut_node(child, root, stages))
        .collect::<Result<Vec<_>>>()?;
    let node = node.replace_children(children.clone(), same_properties())?;

    if let Some(repartition) = node.as_ref().downcast_ref::<RepartitionExec>() {
        let divides_rows = matches!(
            repartition.partitioning(),
            Partitioning::Hash(..) | Partitioning::RoundRobinBatch(_)
        );
        if divides_rows && !repartition.preserve_order() {
            // Replaced as a whole: the map tasks divide their own rows, so
            // each reduce task reads only its partition.
            let kind = ExchangeKind::Repartitioned(repartition.partitioning().clone());
            return Ok(add_stage(children[0].clone(), kind, root, stages, node.as_ref()));
        }
        // An order-preserving repartition merges sorted inputs: it stays,
        // above a reader of its input (each process running one of its
        // partitions repartitions all of the input; correct, not cheap).
    }
    let merges = merges_partitions(node.as_ref()) || node.as_ref().is::<RepartitionExec>();
    if merges && !children[0].as_ref().is::<ExchangeReaderExec>() {
        let input = children[0].clone();
        let reader = add_stage(input.clone(), ExchangeKind::PerTask, root, stages, input.as_ref());
        return node.replace_children(vec![reader], same_properties());
    }
    Ok(node)
}

/// A coalesce or a sort-preserving merge: all partitions into one.
fn merges_partitions(node: &dyn ExecutionPlan) -> bool {
    node.is::<CoalescePartitionsExec>() || node.is::<SortPreservingMergeExec>()
}

/// Whether `plan` brings rows of different partitions together (a hash
/// repartition, a coalesce, a merge): an aggregate, join, window, sort or
/// limit, as opposed to per-page work (which at most spreads batches round
/// robin).
pub fn gathers_rows(plan: &Arc<dyn ExecutionPlan>) -> bool {
    let node = plan.as_ref();
    let hashes = node
        .downcast_ref::<RepartitionExec>()
        .is_some_and(|r| matches!(r.partitioning(), Partitioning::Hash(..)));
    hashes || merges_partitions(node) || plan.children().into_iter().any(gathers_rows)
}

/// Readers take over the properties of what they replace: the plan above
/// sees the partitioning and ordering it was planned with.
fn same_properties() -> ReplaceChildrenOptions {
    ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep)
}

/// Adds a stage running `plan`; returns the reader standing in for `replaced`.
fn add_stage(
    plan: Arc<dyn ExecutionPlan>,
    kind: ExchangeKind,
    root: &Destination,
    stages: &mut Vec<Stage>,
    replaced: &dyn ExecutionPlan,
) -> Arc<dyn ExecutionPlan> {
    let id = stages.len();
    let dir = root.join(&format!("stage-{id:03}"));
    let map_tasks = plan.output_partitioning().partition_count();
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    let key = format!(
        "{:016x}",
        super::fingerprint(&format!("{text}\n{map_tasks} tasks\n{kind}"))
    );
    let reader = ExchangeReaderExec::new(dir.clone(), id, map_tasks, &kind, replaced, key.clone());
    stages.push(Stage {
        id,
        plan,
        kind,
        dir,
        key,
    });
    Arc::new(reader)
}
