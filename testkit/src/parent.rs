//! The test binaries (`test-server`, `e2b-mock`, `mock-api`) live as long as the test that
//! started them: until it closes their stdin, or dies.

use tokio::io::AsyncReadExt;

/// Returns once stdin closes.
pub async fn until_stdin_closes() {
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
}
