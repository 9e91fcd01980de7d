use super::*;

// --- Parse errors -------------------------------------------------------------------------

#[test]
fn parse_errors_have_columns_and_say_what_was_expected() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
        (
            "(a + b",
            7,
            "expected `)` to close `(` opened at column 1, found the end of the expression",
        ),
        (
            "a + (b * c",
            11,
            "expected `)` to close `(` opened at column 5, found the end of the expression",
        ),
        (
            "(a b)",
            4,
            "expected `)` to close `(` opened at column 1, found `b`",
        ),
        (
            "a === === b",
            7,
            "unexpected `===`; expected a value after `===`",
        ),
        ("=== b", 1, "unexpected `===`; expected a value"),
        (
            "nothing.here ===",
            17,
            "expected a value after `===`, found the end of the expression",
        ),
        (
            "'abc",
            1,
            "unterminated string: no closing `'` after this one",
        ),
        (
            "a + \"xy",
            5,
            "unterminated string: no closing `\"` after this one",
        ),
        (
            "'abc\\",
            1,
            "unterminated string: no closing `'` after this one",
        ),
        (
            "'a\\qb'",
            3,
            "unknown escape `\\q` in a string; the escapes are \\\\ \\' \\\" \\n \\t \\r",
        ),
        ("a = b", 3, "unexpected `=`; use `===` (or `==`) to compare"),
        ("a & b", 3, "unexpected `&`; use `&&` for \"and\""),
        ("a | b", 3, "unexpected `|`; use `||` for \"or\""),
        ("a @ b", 3, "unexpected character `@`"),
        (
            "a b",
            3,
            "unexpected `b`; expected an operator or the end of the expression",
        ),
        ("a)", 2, "unexpected `)` with no matching `(`"),
        ("a]", 2, "unexpected `]` with no matching `[`"),
        (
            "x.",
            3,
            "expected a field name after `.`, found the end of the expression",
        ),
        ("x.[0]", 3, "expected a field name after `.`, found `[`"),
        ("x.0", 3, "expected a field name after `.`, found `0`"),
        (
            "xs[0",
            5,
            "expected `]` to close `[` opened at column 3, found the end of the expression",
        ),
        (
            "[1, 2",
            6,
            "expected `,` or `]` to close `[` opened at column 1, found the end of the \
             expression",
        ),
        (
            "len(1 2)",
            7,
            "expected `,` or `)` to close `(` opened at column 4, found `2`",
        ),
        ("[1,,2]", 4, "unexpected `,`; expected a value after `,`"),
        (
            "3abc",
            1,
            "invalid number `3abc`; a name must start with a letter or `_`",
        ),
        (
            "x + 3d-model",
            5,
            "invalid number `3d-model`; a name must start with a letter or `_`",
        ),
        ("()", 2, "unexpected `)`; expected a value after `(`"),
        (
            "a +",
            4,
            "expected a value after `+`, found the end of the expression",
        ),
        ("{a: 1}", 1, "unexpected character `{`"),
        // Columns count characters, not bytes.
        ("'é' + é", 7, "unexpected character `é`"),
        (
            "'日本' ==",
            8,
            "expected a value after `==`, found the end of the expression",
        ),
    ];
    for (source, column, message) in cases {
        let error = parse_error(source);
        assert_eq!(
            (error.column, error.message.as_str()),
            (*column, *message),
            "{source}"
        );
    }
    let error = parse_error("a === === b");
    assert_eq!(
        error.to_string(),
        "unexpected `===`; expected a value after `===` (column 7)"
    );
    let long = format!("x {}", "y".repeat(100));
    assert_eq!(
        parse_error(&long).message,
        format!(
            "unexpected `{}…`; expected an operator or the end of the expression",
            "y".repeat(32)
        )
    );
    assert_eq!(
        parse_error("'a\\\u{1}'").message.split(';').next(),
        Some("unknown escape `\\\\u{1}` in a string")
    );
}

#[test]
fn parse_at_shifts_every_column() {
    let error = parse_at("(a", 10).expect_err("unclosed");
    assert_eq!(error.column, 13);
    assert_eq!(
        error.message,
        "expected `)` to close `(` opened at column 11, found the end of the expression"
    );
    assert_eq!(parse_at("  ", 4).expect_err("empty").column, 5);
}

// --- Limits -------------------------------------------------------------------------------

#[test]
fn nesting_is_capped_at_64() {
    let ok = format!("{}1{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(value(&ok, json!({})), json!(1));
    let too_deep = format!("{}1{}", "(".repeat(65), ")".repeat(65));
    let error = parse_error(&too_deep);
    assert_eq!(error.column, 65);
    assert!(error.message.contains("nested too deeply"), "{error}");
    assert!(error.message.contains("64"), "{error}");

    let brackets = format!("{}1{}", "[".repeat(64), "]".repeat(64));
    assert!(parse(&brackets).is_ok());
    let brackets = format!("{}1{}", "[".repeat(65), "]".repeat(65));
    assert!(parse_error(&brackets).message.contains("nested too deeply"));

    let calls = format!("{}'a'{}", "lower(".repeat(65), ")".repeat(65));
    assert!(parse_error(&calls).message.contains("nested too deeply"));
    let indexes = format!("{}0{}", "x[".repeat(65), "]".repeat(65));
    assert!(parse_error(&indexes).message.contains("nested too deeply"));
}

#[test]
fn ten_thousand_parentheses_are_a_parse_error_not_a_stack_overflow() {
    for (open, close) in [("(", ")"), ("[", "]"), ("len(", ")"), ("x[", "]")] {
        let source = format!("{}1{}", open.repeat(10_000), close.repeat(10_000));
        let error = parse_error(&source);
        assert!(error.message.contains("nested too deeply"), "{error}");
        let unclosed = open.repeat(10_000);
        assert!(parse(&unclosed).is_err());
    }
}

#[test]
fn long_operator_chains_are_flat() {
    // Prefix operators, chains and paths do not nest, however long.
    let nots = format!("{}x", "!".repeat(10_000));
    assert_eq!(value(&nots, json!({"x": 0})), json!(false));
    let negs = format!("{}x", "- ".repeat(10_001));
    assert_eq!(value(&negs, json!({"x": 2})), json!(-2));
    let path = format!("x{}", ".a".repeat(10_000));
    assert_eq!(value(&path, json!({"x": {"a": {"a": 1}}})), Value::Null);
}

#[test]
fn a_200_kb_expression_is_fine() {
    let sum = vec!["x"; 50_000].join(" + ");
    assert!(sum.len() > 190_000);
    let expr = parse(&sum).expect("parses");
    assert_eq!(expr.names(), ["x"]);
    assert_eq!(expr.eval(&scope(json!({"x": 2}))), Ok(json!(100_000)));

    let ors = format!("{} || 'last'", vec!["a-b"; 40_000].join(" || "));
    assert!(ors.len() > 200_000);
    assert_eq!(value(&ors, json!({})), json!("last"));

    let names: Vec<String> = (0..20_000).map(|i| format!("n{i}")).collect();
    let many = names.join(" && ");
    assert!(many.len() > 100_000);
    assert_eq!(parse(&many).expect("parses").names(), names);

    let string = format!("'{}' + 'b'", "a".repeat(200_000));
    let result = value(&string, json!({}));
    assert_eq!(result.as_str().map(str::len), Some(200_001));

    let array = format!("len([{}])", vec!["1"; 100_000].join(", "));
    assert_eq!(value(&array, json!({})), json!(100_000));
}

#[test]
fn garbage_never_panics() {
    let garbage = [
        "",
        " ",
        "'",
        "\"",
        "'\\",
        "\"\\\"",
        "\\",
        "`",
        "((",
        "))",
        "[[",
        "]]",
        "[,]",
        "(,)",
        ",",
        ".",
        "..",
        "a..b",
        "a.",
        ".a",
        "!",
        "!!",
        "-",
        "--",
        "- -",
        "a -",
        "===",
        "!==!==",
        "<=>",
        "&&||",
        "=",
        "==",
        "a == ",
        "1.",
        "1.2.3",
        "1..2",
        "0x1f",
        "1e10",
        "-0",
        "-0.0 * 1",
        "é",
        "日本語",
        "🌍 + 1",
        "a\u{0}b",
        "\u{feff}a",
        "'\u{fffd}'",
        "len(",
        "len(,)",
        "len)(",
        "contains(1,2,",
        "x[",
        "x[]",
        "x[1][",
        "[1, 2,, ]",
        "a-",
        "-a-",
        "a--",
        "_-_",
        "_",
        "__proto__.constructor",
        "null.null.null",
        "true false",
        "\t\n\r",
        "a\n&&\nb",
        "'\n'",
        "%",
        "1 % -0",
        "startsWith()",
        "upper(lower(len('x')))",
        "[][0][0]",
        "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x",
    ];
    let values = scope(json!({"a": 1, "x": [1], "_": null, "a-b": "s"}));
    for text in garbage {
        if let Ok(expr) = parse(text) {
            let _ = expr.eval(&values);
            let _ = expr.eval(&Map::new());
        }
    }
    // A cheap pseudo-random soup of the language's characters.
    let alphabet: Vec<char> = "ab-_.[](),'\"\\!=<>&|+*/%0123 9é🌍lentrufsc"
        .chars()
        .collect();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..2_000 {
        let mut text = String::new();
        for _ in 0..(seed % 24) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        if let Ok(expr) = parse(&text) {
            let _ = expr.eval(&values);
        }
    }
}
