use askama::Template;

use super::Layout;

#[derive(Template)]
#[template(path = "errors/show.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub title: String,
    pub message: String,
    pub back_href: String,
    pub back_label: String,
}
