//! The throughput chart: finished jobs per bucket of time as an inline SVG of
//! stacked bars, drawn on the server. Successful jobs are solid, failed ones
//! hatched, cancelled ones outlined, so the chart reads without colour; each bar
//! has a `<title>` with its numbers, and the caption gives the totals.

use std::fmt::Write;

use wasmtasks::service::jobs::Throughput;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// Totals of a series.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    /// Jobs that finished SUCCESSFUL.
    pub successful: u64,
    /// Jobs that finished FAILED.
    pub failed: u64,
    /// Jobs CANCELLED.
    pub cancelled: u64,
}

impl Totals {
    /// The totals of `series`.
    pub fn of(series: &Throughput) -> Totals {
        series
            .buckets
            .iter()
            .fold(Totals::default(), |total, b| Totals {
                successful: total.successful + b.successful,
                failed: total.failed + b.failed,
                cancelled: total.cancelled + b.cancelled,
            })
    }

    /// Failed among finished (successful or failed) jobs, as a percentage, or a
    /// dash when none finished.
    pub fn failure_rate(&self) -> String {
        let finished = self.successful + self.failed;
        if finished == 0 {
            "—".to_owned()
        } else {
            format!("{:.1}%", self.failed as f64 * 100.0 / finished as f64)
        }
    }
}

/// The SVG of `series`; `label` writes a bucket's start on the time axis.
pub fn svg(id: &str, series: &Throughput, label: impl Fn(usize) -> Option<String>) -> String {
    let peak = series
        .buckets
        .iter()
        .map(|b| b.successful + b.failed + b.cancelled)
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / series.buckets.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let scale = |count: u64| count as f64 * plot_height / peak as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title" id="{id}"><title id="{id}-title">Finished jobs per {} s: successful solid, failed hatched, cancelled outlined</title><defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#b42318" stroke-width="3"/></pattern></defs>"##,
        series.bucket_seconds
    );
    let base = HEIGHT - BOTTOM;
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#57606a"/><text x="{}" y="{}" font-size="10" text-anchor="end">{peak}</text><text x="{}" y="{base}" font-size="10" text-anchor="end">0</text>"##,
        LEFT - 4.0,
        TOP + 8.0,
        LEFT - 4.0,
    );
    for (index, bucket) in series.buckets.iter().enumerate() {
        let x = LEFT + index as f64 * slot + (slot - bar) / 2.0;
        let mut y = base;
        let _ = write!(
            out,
            "<g><title>{}: {} successful, {} failed, {} cancelled</title>",
            bucket.start.format("%Y-%m-%d %H:%M UTC"),
            bucket.successful,
            bucket.failed,
            bucket.cancelled
        );
        for (count, style) in [
            (bucket.successful, r##"fill="#1a7f37""##.to_owned()),
            (
                bucket.failed,
                format!(r##"fill="url(#{id}-hatch)" stroke="#b42318""##),
            ),
            (
                bucket.cancelled,
                r##"fill="#fff" stroke="#57606a""##.to_owned(),
            ),
        ] {
            if count == 0 {
                continue;
            }
            let height = scale(count).max(1.0);
            y -= height;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{height:.1}" {style}/>"#
            );
        }
        out.push_str("</g>");
        if let Some(text) = label(index) {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{text}</text>"#,
                x + bar / 2.0,
                HEIGHT - 6.0
            );
        }
    }
    out.push_str("</svg>");
    out
}
