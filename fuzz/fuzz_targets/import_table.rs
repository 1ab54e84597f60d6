//! The household import, from the uploaded bytes to checked rows: the CSV or xlsx reader, the
//! search for the header among title rows, the header mapping and every row through the
//! household parser. Whatever the bytes, it must end in
//! a table or a message — no panic, no hang. The first byte chooses the file kind (the reader
//! looks at the content, the name only breaks ties).

#![no_main]

use giupdo::import::households::{column_index, field_for_header, row_input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts even on a panic the code under test catches (the xlsx
    // reader guards against calamine's): print instead. A panic that escapes still aborts — the
    // harness catches the unwinding and aborts itself.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    });
    let Some((kind, bytes)) = data.split_first() else {
        return;
    };
    let name = if kind % 2 == 0 { "ho.csv" } else { "ho.xlsx" };
    match giupdo::import::read_table(bytes, name)
        .and_then(|t| giupdo::import::locate_header(&t, field_for_header, 2))
    {
        Ok((table, _layout)) => {
            let (index, _) = column_index(&table.headers);
            for (_, cells) in &table.rows {
                if let Err(errors) = row_input(&index, cells).parse(2024) {
                    assert!(errors.values().all(|m| !m.is_empty()));
                }
            }
        }
        Err(message) => assert!(!message.is_empty()),
    }
});
