//! `giupdo export summary|agencies|years|effectiveness`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// Báo cáo tổng hợp của một đợt: .xlsx có các trang tổng hợp, danh sách hộ, theo xã, theo
    /// loại đơn vị, theo hình thức, đơn vị chưa đạt; .csv là danh sách hộ kèm dòng tổng cộng.
    Summary {
        #[arg(long)]
        campaign: i32,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Chỉ một xã (mã 2024; với --merged là mã xã mới).
        #[arg(long)]
        commune: Option<String>,
        /// Chỉ một loại đơn vị chủ trì (department, school, …).
        #[arg(long)]
        kind: Option<String>,
        /// Gộp các xã năm 2024 theo xã mới từ 01/07/2025.
        #[arg(long)]
        merged: bool,
    },
    /// Kết quả từng cơ quan, đơn vị trong một đợt.
    Agencies {
        #[arg(long)]
        campaign: i32,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
        #[arg(long)]
        kind: Option<String>,
    },
    /// Hộ được giúp đỡ qua các năm và số hộ thoát nghèo về sau.
    Years {
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Hiệu quả theo hình thức hỗ trợ (mọi đợt, hoặc một đợt với --campaign).
    Effectiveness {
        #[arg(long)]
        campaign: Option<i32>,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
}

pub(super) async fn run(pool: &sqlx::PgPool, what: ExportWhat) -> anyhow::Result<()> {
    use crate::domain::roles::Scope;
    use crate::report::{self, export};
    let campaign_of = |year: i32| async move {
        report::campaign_by_year(pool, year)
            .await?
            .with_context(|| format!("Không có đợt vận động năm {year}."))
    };
    // The organiser's words ("Toàn huyện", "ỦY BAN NHÂN DÂN HUYỆN BÌNH GIA"): of the campaign
    // asked for, else of the current one.
    let area_of = |campaign: Option<uuid::Uuid>| async move {
        anyhow::Ok(crate::domain::area::Area::new(
            crate::db::campaigns::organiser_of(pool, campaign).await?,
        ))
    };
    let write = |format: ExportFormat,
                 output: &PathBuf,
                 tables: Vec<(&str, export::Table)>,
                 area: &crate::domain::area::Area| {
        let bytes = match format {
            ExportFormat::Xlsx => {
                export::xlsx(&tables, &format!("ỦY BAN NHÂN DÂN {}", area.issuer()))?
            }
            ExportFormat::Csv => {
                // A CSV holds one table: the main one (the list, or the only table).
                tables
                    .iter()
                    .find(|(n, _)| *n == "Danh sách hộ")
                    .or(tables.first())
                    .map(|(_, t)| export::csv(t))
                    .unwrap_or_default()
            }
        };
        std::fs::write(output, &bytes)
            .with_context(|| format!("Không ghi được tệp {}", output.display()))?;
        println!("Đã ghi {} ({} byte).", output.display(), bytes.len());
        anyhow::Ok(())
    };
    match what {
        ExportWhat::Summary {
            campaign,
            format,
            output,
            commune,
            kind,
            merged,
        } => {
            let c = campaign_of(campaign).await?;
            let f = report::Filter {
                campaign: c.id,
                commune,
                kind,
                merged,
            };
            let s = report::summary(pool, &f, &Scope::District, report::Rows::All)
                .await?
                .context("Không có đợt vận động.")?;
            println!(
                "Đợt {}: {} hộ đã xác nhận, cam kết {} đồng, đã trao {} đồng.",
                s.campaign.year, s.totals.confirmed, s.totals.pledged, s.totals.delivered
            );
            let area = area_of(Some(c.id)).await?;
            let scope = format!("Phạm vi: {}", area.whole());
            write(format, &output, export::summary_tables(&s, &scope), &area)
        }
        ExportWhat::Agencies {
            campaign,
            format,
            output,
            kind,
        } => {
            let c = campaign_of(campaign).await?;
            let rows =
                report::agency_results(pool, c.id, kind.as_deref(), &Scope::District).await?;
            let area = area_of(Some(c.id)).await?;
            let scope = format!("Phạm vi: {}", area.whole());
            let table = export::agencies_table(&rows, c.year, &scope);
            write(format, &output, vec![("Kết quả đơn vị", table)], &area)
        }
        ExportWhat::Years { format, output } => {
            let (rows, totals) = report::years(pool, &Scope::District).await?;
            let area = area_of(None).await?;
            let scope = format!("Phạm vi: {}", area.whole());
            let table = export::years_table(&rows, &totals, &scope);
            write(format, &output, vec![("Qua các năm", table)], &area)
        }
        ExportWhat::Effectiveness {
            campaign,
            format,
            output,
        } => {
            let groups = report::effectiveness(pool, &Scope::District, campaign).await?;
            let area = match campaign {
                Some(y) => area_of(Some(campaign_of(y).await?.id)).await?,
                None => area_of(None).await?,
            };
            let subtitle = match campaign {
                Some(y) => format!("Phạm vi: {} · hộ được giúp trong đợt {y}", area.whole()),
                None => format!("Phạm vi: {} · hộ được giúp trong mọi đợt", area.whole()),
            };
            let table = export::effectiveness_table(&groups, &subtitle);
            let mut sheets = vec![("Hiệu quả", table)];
            // The spreadsheet also has what was resolved per deprivation (a CSV is one table).
            if matches!(format, ExportFormat::Xlsx) {
                let rows = report::deprivation_effects(pool, &Scope::District, campaign).await?;
                let standard = crate::db::profiles::standards(pool).await?.pop();
                sheets.push((
                    "Theo thiếu hụt",
                    export::deprivation_table(&rows, standard.as_ref(), &subtitle),
                ));
            }
            write(format, &output, sheets, &area)
        }
    }
}
