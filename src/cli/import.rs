//! `giupdo import households|history`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;

use crate::db::audit::By;
use crate::db::{self, agencies};
use crate::domain::duplicates::Thresholds;

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Danh sách hộ: kiểm tra mọi dòng, rồi ghi tất cả trong một giao dịch (hoặc không ghi gì).
    Households {
        /// Tệp .xlsx hoặc .csv theo mẫu.
        file: PathBuf,
        /// Mã xã cho các dòng để trống cột Xã (các dòng ghi xã khác bị báo lỗi).
        #[arg(long)]
        commune: Option<String>,
        /// Chỉ kiểm tra, không ghi.
        #[arg(long)]
        dry_run: bool,
        /// Khi có hộ "có thể trùng": ghi lý do để vẫn nhập (được lưu trong nhật ký).
        #[arg(long, value_name = "LÝ DO")]
        confirm_duplicates: Option<String>,
    },
    /// Lịch sử giúp đỡ các năm trước (2014–2023): đối chiếu từng dòng với sổ hộ rồi ghi các dòng
    /// khớp đúng một hộ trong một giao dịch.
    History {
        /// Tệp .xlsx hoặc .csv (Năm, Cơ quan đơn vị, Họ tên chủ hộ, Thôn, Xã, Số CCCD, Hình thức,
        /// Nội dung, Giá trị).
        file: PathBuf,
        /// Chỉ kiểm tra, không ghi.
        #[arg(long)]
        dry_run: bool,
        /// Vẫn ghi khi có dòng không khớp hộ nào hoặc khớp nhiều hộ (các dòng đó bị bỏ qua; xử lý
        /// chúng trên trình duyệt để chọn hộ).
        #[arg(long)]
        skip_unmatched: bool,
    },
    /// Kết quả rà soát hộ nghèo theo chuẩn nghèo đa chiều (danh sách của xã: Mã hộ hoặc Số CCCD,
    /// Thu nhập bình quân, các chỉ số thiếu hụt ghi "x", Tâm tư nguyện vọng): kiểm tra mọi dòng,
    /// rồi ghi tất cả trong một giao dịch (hoặc không ghi gì).
    Profiles {
        /// Tệp .xlsx hoặc .csv.
        file: PathBuf,
        /// Năm rà soát (cột "Năm rà soát" trong tệp, nếu có, được ưu tiên).
        #[arg(long)]
        year: i32,
        /// Khu vực cho các dòng để trống cột Khu vực: nong-thon hoặc thanh-thi.
        #[arg(long, default_value = "nong-thon")]
        area: String,
        /// Chỉ nhận hộ của xã này (mã xã).
        #[arg(long)]
        commune: Option<String>,
        /// Chỉ kiểm tra, không ghi.
        #[arg(long)]
        dry_run: bool,
    },
}

async fn import_profiles(
    pool: &sqlx::PgPool,
    file: PathBuf,
    year: i32,
    area: String,
    commune: Option<String>,
    dry_run: bool,
) -> anyhow::Result<()> {
    use crate::domain::poverty::Area;
    use crate::import::profiles::{Target, check, commit};
    let area = Area::parse(&area.replace('-', " "))
        .with_context(|| format!("Khu vực “{area}”: ghi nong-thon hoặc thanh-thi."))?;
    let bytes =
        std::fs::read(&file).with_context(|| format!("Không đọc được tệp {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let table = crate::import::read_table(&bytes, &name).map_err(anyhow::Error::msg)?;
    let target = Target {
        review_year: year,
        default_area: area,
        only_commune: commune,
    };
    let c = check(pool, &table, &target)
        .await?
        .map_err(anyhow::Error::msg)?;
    println!(
        "{} dòng (tiêu đề ở {}): {} hộ hợp lệ, {} lỗi.",
        c.total_rows,
        c.layout.header_label(),
        c.rows.len(),
        c.problems.len()
    );
    for pr in c.problems.iter().take(200) {
        println!("{:>6}  {:<28} {}", pr.line, pr.column, pr.message);
    }
    if !c.problems.is_empty() {
        bail!("Không ghi gì: hãy sửa các dòng lỗi rồi chạy lại.");
    }
    if c.rows.is_empty() {
        bail!("Tệp không có dòng hộ nào.");
    }
    for r in c.rows.iter().take(20) {
        println!(
            "{:>6}  {:<28} {:>12}  {} chỉ số thiếu hụt  {}",
            r.line,
            r.head_name,
            crate::domain::money::group_thousands(r.profile.income_per_person),
            r.profile.short_of.len(),
            r.implied.label()
        );
    }
    if dry_run {
        println!("Chỉ kiểm tra: chưa ghi gì.");
        return Ok(());
    }
    commit(pool, &By::system("giupdo import profiles"), &c, &name).await?;
    println!("Đã ghi kết quả rà soát của {} hộ.", c.rows.len());
    Ok(())
}

async fn import_history(
    pool: &sqlx::PgPool,
    thresholds: Thresholds,
    file: PathBuf,
    dry_run: bool,
    skip_unmatched: bool,
) -> anyhow::Result<()> {
    use crate::import::history::{Match, commit, preview};
    let bytes =
        std::fs::read(&file).with_context(|| format!("Không đọc được tệp {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let table = crate::import::read_table(&bytes, &name).map_err(anyhow::Error::msg)?;
    let p = preview(pool, &table, thresholds).await?;
    let several: Vec<_> = p
        .rows
        .iter()
        .filter(|(_, m)| matches!(m, Match::Several(_)))
        .collect();
    let none: Vec<_> = p
        .rows
        .iter()
        .filter(|(_, m)| matches!(m, Match::None))
        .collect();
    println!(
        "{} dòng: {} khớp một hộ, {} khớp nhiều hộ, {} không khớp, {} lỗi.",
        p.total_rows,
        p.matched(),
        several.len(),
        none.len(),
        p.problems.len()
    );
    for pr in p.problems.iter().take(200) {
        println!("{:>6}  {:<18} {}", pr.line, pr.column, pr.message);
    }
    for (r, m) in several.iter().chain(none.iter()) {
        let what = match m {
            Match::Several(o) => format!(
                "khớp {} hộ: {}",
                o.len(),
                o.iter()
                    .map(|o| o.label.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            _ => "không khớp hộ nào".to_string(),
        };
        println!("{:>6}  {} ({}) — {what}", r.line, r.head_name, r.village);
    }
    if !p.problems.is_empty() {
        bail!("Tệp còn lỗi: không ghi gì.");
    }
    if dry_run {
        println!("Chạy thử (--dry-run): không ghi gì.");
        return Ok(());
    }
    if (!several.is_empty() || !none.is_empty()) && !skip_unmatched {
        bail!(
            "Có dòng chưa khớp đúng một hộ: xử lý trên trình duyệt (Nhận giúp đỡ → Nhập lịch sử), hoặc thêm --skip-unmatched để bỏ qua các dòng đó."
        );
    }
    let rows: Vec<_> = p
        .rows
        .iter()
        .filter_map(|(r, m)| match m {
            Match::One(h, _) => Some((r.clone(), *h)),
            _ => None,
        })
        .collect();
    let by = By::system(&format!("cli:{}", super::whoami()));
    let n = commit(pool, &by, &rows, &name, None).await?;
    println!("Đã nhập {n} lượt giúp đỡ các năm trước.");
    Ok(())
}

pub(super) async fn run(
    pool: &sqlx::PgPool,
    what: ImportWhat,
    thresholds: Thresholds,
) -> anyhow::Result<()> {
    use crate::import::households::{Target, commit, preview};
    let (file, commune, dry_run, confirm_duplicates) = match what {
        ImportWhat::History {
            file,
            dry_run,
            skip_unmatched,
        } => return import_history(pool, thresholds, file, dry_run, skip_unmatched).await,
        ImportWhat::Profiles {
            file,
            year,
            area,
            commune,
            dry_run,
        } => return import_profiles(pool, file, year, area, commune, dry_run).await,
        ImportWhat::Households {
            file,
            commune,
            dry_run,
            confirm_duplicates,
        } => (file, commune, dry_run, confirm_duplicates),
    };
    let started = std::time::Instant::now();
    let bytes =
        std::fs::read(&file).with_context(|| format!("Không đọc được tệp {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let table = crate::import::read_table(&bytes, &name).map_err(anyhow::Error::msg)?;
    if let Some(c) = &commune {
        agencies::commune_name(pool, c)
            .await?
            .with_context(|| format!("Không có xã mã {c}."))?;
    }
    let year = db::households::priority_context(pool).await?.0;
    let target = Target {
        default_commune: commune,
        only_commune: None,
        row_limit: None,
    };
    let p = preview(pool, &table, &target, year, thresholds).await?;
    for line in crate::import::households::layout_lines(&p.layout) {
        println!("{line}");
    }
    println!(
        "{} dòng dữ liệu, {} dòng hợp lệ, {} lỗi.",
        p.total_rows,
        p.rows.len(),
        p.problems.len()
    );
    for n in &p.notes {
        println!("{:>6}  {:<22} {}", n.line, n.column, n.message);
    }
    if !p.problems.is_empty() {
        println!("{:>6}  {:<22} LỖI", "DÒNG", "CỘT");
        for pr in p.problems.iter().take(200) {
            let line = if pr.line == 0 {
                "tệp".to_string()
            } else {
                pr.line.to_string()
            };
            println!("{line:>6}  {:<22} {}", pr.column, pr.message);
        }
        if p.problems.len() > 200 {
            println!("… và {} lỗi khác.", p.problems.len() - 200);
        }
        bail!("Tệp còn lỗi: không ghi gì vào sổ hộ.");
    }
    if !p.warnings.is_empty() {
        println!("{} dòng có thể trùng hộ đã có:", p.warnings.len());
        for w in p.warnings.iter().take(200) {
            println!("{:>6}  {}", w.line, w.message);
        }
    }
    if dry_run {
        println!("Chạy thử (--dry-run): không ghi gì.");
        return Ok(());
    }
    let confirm = confirm_duplicates
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if !p.warnings.is_empty() && confirm.is_none() {
        bail!(
            "Có hộ có thể trùng: kiểm tra lại, hoặc ghi lý do bằng --confirm-duplicates \"…\" để vẫn nhập."
        );
    }
    let drafts: Vec<_> = p.rows.into_iter().map(|(_, d)| d).collect();
    let by = By::system(&format!("cli:{}", super::whoami()));
    let n = commit(pool, &by, &drafts, &name, None, confirm.as_deref()).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Đã nhập {n} hộ trong {secs:.1} giây ({:.0} dòng/giây).",
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}
