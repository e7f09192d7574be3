//! The loops that drive the runner, each owning its timers and leases: the dispatcher (sends
//! the outbox), the scheduler (takes due jobs) and the Telegram poller (and its webhook). They
//! sit above the runner; nothing below imports them (DESIGN §3).

pub mod dispatch;
pub mod scheduler;
pub mod telegram;
