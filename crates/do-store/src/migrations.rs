pub const SCHEMA_VERSION: u32 = 1;
