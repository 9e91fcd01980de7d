use super::*;

// --- Names ------------------------------------------------------------------------------

#[test]
fn hyphenated_names_and_subtraction() {
    let vars = json!({"a": 5, "b": 3, "a-b": "hyphen", "a-1": "name", "x-2y": 7});
    assert_eq!(value("a-b", vars.clone()), json!("hyphen"));
    assert_eq!(value("a - b", vars.clone()), json!(2));
    assert_eq!(value("a -b", vars.clone()), json!(2));
    assert_eq!(value("a- b", vars.clone()), json!(2));
    assert_eq!(value("a-1", vars.clone()), json!("name"));
    assert_eq!(value("a - 1", vars.clone()), json!(4));
    assert_eq!(value("a -1", vars.clone()), json!(4));
    assert_eq!(value("x-2y", vars.clone()), json!(7));
    // `--` is not part of a name: `a - -b`.
    assert_eq!(value("a--b", vars.clone()), json!(8));
    // `-_` is not part of a name either.
    assert_eq!(parse("a-_b").expect("parses").names(), ["a", "_b"]);
    assert_eq!(parse("a-b - c").expect("parses").names(), ["a-b", "c"]);
    assert_eq!(
        parse("test-results.passed && build-info.ok-ish")
            .expect("parses")
            .names(),
        ["test-results", "build-info"]
    );
    let error = parse_error("a-");
    assert_eq!(error.column, 3);
    assert_eq!(
        error.message,
        "expected a value after `-`, found the end of the expression"
    );
}

#[test]
fn input_and_loop_names() {
    let vars = json!({"input": {"productName": "Widget", "items": [{"name": "x"}]},
                      "item": {"n": 2}, "index": 1});
    assert_eq!(value("input.productName", vars.clone()), json!("Widget"));
    assert_eq!(value("input.items[0].name", vars.clone()), json!("x"));
    assert_eq!(value("item.n * 10 + index", vars.clone()), json!(21));
    let expr = parse("input.productName + item.n + index + input.x").expect("parses");
    assert_eq!(expr.names(), ["input", "item", "index"]);
}

#[test]
fn names_are_listed_once_in_order_without_functions_or_keywords() {
    let expr = parse("len(b) + a[c] > d.e && contains(a, 'x') || true || null || b").unwrap();
    assert_eq!(expr.names(), ["b", "a", "c", "d"]);
    // A function name that is not called is a name.
    assert_eq!(parse("len").unwrap().names(), ["len"]);
    // Field names and keywords after `.` are fields, not names.
    assert_eq!(parse("x.true.null.y").unwrap().names(), ["x"]);
    assert!(parse("1 + 'a'").unwrap().names().is_empty());
}

#[test]
fn unknown_names_are_null() {
    assert_eq!(value("nobody", json!({})), Value::Null);
    assert_eq!(value("nobody == null", json!({})), json!(true));
    assert_eq!(value("nobody.x[3].y", json!({})), Value::Null);
}

// --- Literals -----------------------------------------------------------------------------

#[test]
fn literals() {
    assert_eq!(value("3", json!({})), json!(3));
    assert!(value("3", json!({})).is_i64());
    assert_eq!(value("2.5", json!({})), json!(2.5));
    assert!(value("2.0", json!({})).is_f64());
    assert_eq!(value("007", json!({})), json!(7));
    assert_eq!(value("'it\\'s'", json!({})), json!("it's"));
    assert_eq!(value("\"say \\\"hi\\\"\"", json!({})), json!("say \"hi\""));
    assert_eq!(value(r"'a\\b\nc\td\r'", json!({})), json!("a\\b\nc\td\r"));
    assert_eq!(value("'x \" y'", json!({})), json!("x \" y"));
    assert_eq!(value("'héllo 🌍'", json!({})), json!("héllo 🌍"));
    assert_eq!(value("true", json!({})), json!(true));
    assert_eq!(value("false", json!({})), json!(false));
    assert_eq!(value("null", json!({})), Value::Null);
    assert_eq!(
        value("[1, 'a', x, [true], []]", json!({"x": {"k": 1}})),
        json!([1, "a", {"k": 1}, [true], []])
    );
    assert_eq!(value("[1, 2,]", json!({})), json!([1, 2]));
    assert_eq!(value("99999999999999999999", json!({})), json!(1e20));
    assert_eq!(
        value("-9223372036854775808", json!({})),
        json!(-9.223372036854776e18)
    );
    assert_eq!(
        parse_error(&"9".repeat(400)).message,
        format!("number `{}` is too large", "9".repeat(400))
    );
}
