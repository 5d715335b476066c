//! What `nginx -t` refuses before it touches the network or the file system: unknown
//! directives, directives out of their context, wrong argument counts, duplicates, bad
//! values — checked against nginx's own directive table.

pub mod directive;
pub mod handlers;
pub mod listen;
pub mod locations;
pub mod ssl;
pub mod values;
pub mod walk;
pub mod zones;

crate::rule_pack! {
    "nginx-unknown-directive" => directive::UnknownDirective,
    "nginx-directive-unavailable-in-version" => directive::UnavailableInVersion,
    "nginx-directive-not-allowed-here" => directive::NotAllowedHere,
    "nginx-directive-block-form" => directive::BlockForm,
    "nginx-invalid-argument-count" => directive::InvalidArgumentCount,
    "nginx-directive-duplicate" => values::DirectiveDuplicate,
    "nginx-invalid-value" => values::InvalidValue,
    "nginx-map-invalid" => values::MapInvalid,
    "nginx-listen-invalid" => listen::ListenInvalid,
    "nginx-conflicting-server-name" => listen::ConflictingServerName,
    "nginx-duplicate-location" => locations::DuplicateLocation,
    "nginx-duplicate-upstream" => locations::DuplicateUpstream,
    "nginx-ssl-certificate-without-key" => ssl::CertificateWithoutKey,
    "nginx-ssl-listen-without-certificate" => ssl::ListenWithoutCertificate,
    "nginx-unknown-zone" => zones::UnknownZone,
}

#[cfg(test)]
mod tests;
