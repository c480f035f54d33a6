// Package catalog owns the catalogue of local services: providers
// (erogatori — social co-operatives, associations, small businesses), their
// offerings, photos, the fixed taxonomy of categories with their Italian tax
// buckets, the municipalities people search near, and the search itself.
//
// Visibility rule: an offering is public only while it is active and its
// provider is approved by a platform admin. Management is tenant-scoped: a
// provider's staff see and change only their own organisation's profile and
// offerings (anyone else's answers not_found); platform admins may act on
// any provider; every other role is forbidden to write.
//
// Glossary: erogatore → provider; offerta/servizio → offering; comune →
// place (municipality); CAP → postcode; partita IVA → VAT number; codice
// fiscale → fiscal code.
package catalog
