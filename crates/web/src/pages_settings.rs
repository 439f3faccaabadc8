//! An employer's settings pages: the 健康情報等取扱規程.

use ryoritsu_app::ports::Store;

use crate::RouteTable;

pub fn routes<S: Store>(t: RouteTable<S>) -> RouteTable<S> {
    t
}
