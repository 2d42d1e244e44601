use askama::Template;

use super::Layout;

#[derive(Template)]
#[template(path = "home/index.html")]
pub struct Index {
    pub layout: Layout,
}
