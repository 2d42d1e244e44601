//! Small builders shared by the migrations: an integer primary key, named
//! columns, timestamps, named foreign keys and indexes.
use sea_orm_migration::prelude::*;

pub fn id() -> ColumnDef {
    ColumnDef::new(Alias::new("id"))
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

pub fn col(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
}

pub fn now_tz(name: &str) -> ColumnDef {
    col(name)
        .timestamp_with_time_zone()
        .not_null()
        .default(Expr::current_timestamp())
        .to_owned()
}

pub fn tz_null(name: &str) -> ColumnDef {
    col(name).timestamp_with_time_zone().null().to_owned()
}

pub fn fk(
    name: &str,
    from: &str,
    from_cols: &[&str],
    to: &str,
    to_cols: &[&str],
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.name(name)
        .from_tbl(Alias::new(from))
        .to_tbl(Alias::new(to))
        .on_delete(on_delete);
    for c in from_cols {
        f.from_col(Alias::new(*c));
    }
    for c in to_cols {
        f.to_col(Alias::new(*c));
    }
    f.to_owned()
}

pub fn unique(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table)).unique();
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

pub fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}
