//! Synthetic households: valid import rows (CSV, xlsx) and a fast SQL fill of the registry.

use sqlx::PgPool;

/// A synthetic but valid household row (unique CCCD and code from `n`).
fn row(n: usize, villages: &[(String, String)]) -> Vec<String> {
    const SUR: &[&str] = &[
        "Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Triệu", "Bàn", "Nguyễn", "Lý",
    ];
    const MID: &[&str] = &["Văn", "Thị", "Đức", "Minh", "Văn", "Thị"];
    const GIV: &[&str] = &[
        "Thụ", "Sơn", "Hùng", "Lan", "Hoa", "Mai", "Tâm", "Cường", "Khánh", "Phúc", "Nga", "Vân",
        "Thu", "Thuận",
    ];
    let (commune, village) = &villages[n % villages.len()];
    let male = !n.is_multiple_of(3);
    let year = 1950 + (n % 48) as i32;
    let cccd = format!(
        "020{}{:02}{:06}",
        if male { 0 } else { 1 },
        year % 100,
        n % 1_000_000
    );
    vec![
        commune.clone(),
        village.clone(),
        format!(
            "{} {} {}",
            SUR[n % SUR.len()],
            MID[(n / 7) % MID.len()],
            GIV[(n / 3) % GIV.len()]
        ),
        year.to_string(),
        if male { "Nam" } else { "Nữ" }.into(),
        // Above 1,000,000 rows the 6 free digits repeat: leave the CCCD empty there.
        if n < 1_000_000 { cccd } else { String::new() },
        // No old CMND.
        String::new(),
        format!("BENCH-{n}"),
        ["Tày", "Nùng", "Dao", "Kinh"][n % 4].into(),
        (1 + n % 7).to_string(),
        if n.is_multiple_of(4) {
            "Cận nghèo"
        } else {
            "Hộ nghèo"
        }
        .into(),
        "2024".into(),
        if n.is_multiple_of(2) { "x" } else { "" }.into(),
        String::new(),
        String::new(),
        if n.is_multiple_of(5) { "x" } else { "" }.into(),
        String::new(),
        String::new(),
        if n.is_multiple_of(3) { "" } else { "x" }.into(),
        String::new(),
        String::new(),
    ]
}

pub fn csv_file(
    rows: std::ops::Range<usize>,
    villages: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(
        giupdo::import::households::COLUMNS
            .iter()
            .map(|(_, h, _)| *h),
    )?;
    for n in rows {
        w.write_record(row(n, villages))?;
    }
    Ok(w.into_inner()?)
}

pub fn xlsx_file(
    rows: std::ops::Range<usize>,
    villages: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, (_, h, _)) in giupdo::import::households::COLUMNS.iter().enumerate() {
        sheet.write(0, c as u16, *h)?;
    }
    for (i, n) in rows.enumerate() {
        for (c, v) in row(n, villages).iter().enumerate() {
            if !v.is_empty() {
                sheet.write((i + 1) as u32, c as u16, v.as_str())?;
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

/// Name parts of the synthetic registry: 39 × 12 × 123 = 57.564 different full names, so a name is shared
/// by a few dozen households in a million, as in a real district, not by thousands.
const SURNAMES: &[&str] = &[
    "Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Chu", "Hứa", "Lý", "Vy", "Tô",
    "Dương", "Mã", "Lục", "Ma", "Đinh", "Triệu", "Bàn", "Đặng", "Phùng", "Chảo", "Nguyễn", "Trần",
    "Lê", "Phạm", "Vũ", "Đỗ", "Bùi", "Ngô", "Lâm", "Sầm", "Đàm", "Hầu", "Linh", "Luân", "La",
    "Ninh",
];
const MIDDLES: &[&str] = &[
    "Văn", "Thị", "Đức", "Minh", "Quang", "Xuân", "Ngọc", "Thu", "Hữu", "Thanh", "Kim", "Mạnh",
];
const GIVEN: &[&str] = &[
    "Thụ",
    "Sơn",
    "Hùng",
    "Dũng",
    "Cường",
    "Khánh",
    "Phúc",
    "Thắng",
    "Tuấn",
    "Chiến",
    "Bình",
    "Quý",
    "Sinh",
    "Toàn",
    "Hải",
    "Long",
    "Tiến",
    "Vượng",
    "Thành",
    "Kiên",
    "Lợi",
    "Pao",
    "Sằn",
    "Tòng",
    "Lan",
    "Hoa",
    "Mai",
    "Tâm",
    "Hạnh",
    "Nga",
    "Vân",
    "Liên",
    "Hiền",
    "Thơm",
    "Nhung",
    "Duyên",
    "Phượng",
    "Hằng",
    "Quyên",
    "Mùi",
    "Dịu",
    "Nhất",
    "Chang",
    "Thuận",
    "Thu",
    "Lâm",
    "Lực",
    "Lưu",
    "Mạc",
    "Nam",
    "Ngân",
    "Nghĩa",
    "Nguyên",
    "Nhàn",
    "Ninh",
    "Oanh",
    "Phong",
    "Phương",
    "Quân",
    "Quang",
    "Quyết",
    "Sang",
    "Sáng",
    "Tài",
    "Tân",
    "Thái",
    "Thanh",
    "Thảo",
    "Thìn",
    "Thoa",
    "Thông",
    "Thủy",
    "Tình",
    "Trang",
    "Trọng",
    "Trung",
    "Trường",
    "Tú",
    "Tuyết",
    "Uyên",
    "Vinh",
    "Vũ",
    "Xuân",
    "Yến",
    "An",
    "Anh",
    "Bắc",
    "Bảo",
    "Biên",
    "Cảnh",
    "Châu",
    "Chinh",
    "Công",
    "Cúc",
    "Dân",
    "Diệp",
    "Đại",
    "Đào",
    "Điệp",
    "Định",
    "Đông",
    "Đức",
    "Giang",
    "Hà",
    "Hạ",
    "Hào",
    "Hậu",
    "Hiếu",
    "Hòa",
    "Hoan",
    "Học",
    "Huệ",
    "Hưng",
    "Hương",
    "Hữu",
    "Kha",
    "Khải",
    "Khoa",
    "Lai",
    "Lành",
    "Liễu",
    "Linh",
    "Loan",
];

/// Add `n` synthetic households quickly, in SQL: batches of 200.000, two at a time (one
/// statement keeps one core busy; this machine has two, and the batches' triggers update their
/// tallies in key order, so two never wait on each other for long).
pub async fn fill(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    const BATCH: usize = 200_000;
    let batches: Vec<(i64, i64)> = (0..n)
        .step_by(BATCH)
        .map(|done| {
            let batch = (n - done).min(BATCH);
            (
                (done + 10_000_000) as i64,
                (done + 10_000_000 + batch - 1) as i64,
            )
        })
        .collect();
    let shared = pool.clone();
    two_at_a_time(batches, move |(from, to)| {
        let pool = shared.clone();
        async move { fill_batch(&pool, from, to).await }
    })
    .await?;
    // As an import does: merge the name dictionary's pending index entries now, not at the next
    // vacuum.
    giupdo::db::merge_name_index_pending(pool).await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

/// Households `from..=to` of the synthetic registry, in one statement.
async fn fill_batch(pool: &PgPool, from: i64, to: i64) -> anyhow::Result<()> {
    sqlx::query(
        "WITH v AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(commune_code ORDER BY id) AS codes FROM villages),
              names AS (SELECT $3::text[] AS s, $4::text[] AS m, $5::text[] AS g)
         INSERT INTO households (commune_code, village_id, head_name, birth_year, gender, ethnicity, members, status,
             status_year, lacks_capital, lacks_technique, will_to_escape)
         SELECT v.codes[1 + (k % array_length(v.ids, 1))], v.ids[1 + (k % array_length(v.ids, 1))],
                -- Each part drawn by its own hash of k: every combination occurs (the
                -- strides used before repeated after ~6.700 names).
                names.s[1 + abs(hashint8(k)::bigint) % array_length(names.s, 1)]
                    || ' ' || names.m[1 + abs(hashint8(k + 1000000000000)::bigint) % array_length(names.m, 1)]
                    || ' ' || names.g[1 + abs(hashint8(k + 2000000000000)::bigint) % array_length(names.g, 1)],
                1940 + (k % 60), CASE WHEN k % 3 = 0 THEN 'female' ELSE 'male' END,
                (ARRAY['tay','nung','dao','kinh'])[1 + k % 4], 1 + k % 7,
                CASE WHEN k % 4 = 0 THEN 'near_poor' ELSE 'poor' END, 2024, k % 2 = 0, k % 5 = 0, k % 3 <> 0
         FROM generate_series($1::bigint, $2::bigint) AS k, v, names",
    )
    .bind(from)
    .bind(to)
    .bind(SURNAMES)
    .bind(MIDDLES)
    .bind(GIVEN)
    .execute(pool)
    .await?;
    Ok(())
}

/// Runs `job` on every item, two at a time (one statement keeps one of this machine's two cores
/// busy), and fails with the first error.
pub async fn two_at_a_time<T, F, Fut>(items: Vec<T>, job: F) -> anyhow::Result<()>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let queue = std::sync::Arc::new(std::sync::Mutex::new(
        items.into_iter().collect::<std::collections::VecDeque<T>>(),
    ));
    let job = std::sync::Arc::new(job);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (queue, job) = (queue.clone(), job.clone());
        workers.spawn(async move {
            loop {
                let item = match queue.lock() {
                    Ok(mut q) => q.pop_front(),
                    Err(_) => anyhow::bail!("a worker of the fill panicked"),
                };
                let Some(item) = item else { break };
                job(item).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    Ok(())
}
