//! One line of the socket protocol as the daemon's server decodes it: UTF-8, then
//! `decode_request`, then, for a workflow document, the validation the handler runs next.
//! A decoded request also survives the client's encoding.

#![no_main]

use do_core::validate;
use do_proto::{Request, decode_request, encode_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The server answers a non-UTF-8 line with an error before decoding it.
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let (id, request) = decode_request(line);
    let Ok(request) = request else {
        return;
    };
    if let Request::CreateWorkflow(create) | Request::ValidateWorkflow(create) = &request {
        let _ = validate::parse_document(&create.document);
    }
    let encoded = encode_request(&id, &request);
    let (again, decoded) = decode_request(&encoded);
    assert_eq!(again, id, "the request id survives encoding: {encoded}");
    if let Err(error) = decoded {
        panic!("an encoded request does not decode: {error:?}\n{encoded}");
    }
});
