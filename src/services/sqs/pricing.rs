//! SQS pricing.

use crate::pricing::{Bill, BillLine, BillOptions, PriceTable, PricingError, SqsUsage};

/// Bill lines for SQS queues.
///
/// # Formula
/// `requests/month = billable requests × scale` (each 64 KiB chunk of a request's payload
/// is one request, empty receives included). Standard and FIFO requests are priced
/// separately with their tiers; the free tier (1M requests/month, shared by all queues of
/// the account) is given to queues in model order when enabled.
pub fn bill_lines(
    queues: &[SqsUsage],
    scale: f64,
    table: &PriceTable,
    opts: BillOptions,
    bill: &mut Bill,
) -> Result<(), PricingError> {
    for fifo in [false, true] {
        let id = if fifo {
            "sqs.fifo.requests"
        } else {
            "sqs.standard.requests"
        };
        let group: Vec<&SqsUsage> = queues.iter().filter(|q| q.fifo == fifo).collect();
        if group.is_empty() {
            continue;
        }
        let price = table.get(
            id,
            if fifo {
                "FIFO queues"
            } else {
                "standard queues"
            },
        )?;
        let mut free_left = if opts.free_tier {
            price.free_per_month
        } else {
            0.0
        };
        // Tiers apply to the account's total; price each queue at the marginal cost of
        // adding it to the running total so the lines sum to the tiered total.
        let mut before = 0.0;
        for q in group {
            let qty = q.requests as f64 * scale;
            let free = free_left.min(qty);
            free_left -= free;
            let billable_before = before;
            let billable_after = before + (qty - free);
            let usd = price.cost(billable_after, 0.0) - price.cost(billable_before, 0.0);
            before = billable_after;
            bill.push(BillLine {
                service: "sqs".into(),
                component: q.name.clone(),
                item: format!(
                    "{} requests (64 KiB chunks){}",
                    if fifo { "FIFO" } else { "standard" },
                    if free > 0.0 { ", after free tier" } else { "" }
                ),
                quantity: qty,
                unit: "request".into(),
                unit_usd: price.unit_usd(),
                usd,
            });
        }
    }
    Ok(())
}
