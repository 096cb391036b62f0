//! §11 security hardening, as an attacker with a low-privilege token (or none) would probe
//! it: redirecting a stored password, growing `/metrics`, trickling bodies, heavy
//! searches, weak secrets at start-up, spoofed hosts in links, token guessing.

mod body_timeout;
mod destination;
mod links;
mod metrics;
mod search;
mod startup;
mod throttle;
