// SPDX-License-Identifier: BSD-2-Clause
#include "auth/tls_context.hpp"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

namespace apns_sim {

namespace {

bool has_extension(X509* cert, const char* oid) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
    if (!obj) return false;
    int idx = X509_get_ext_by_OBJ(cert, obj, -1);
    ASN1_OBJECT_free(obj);
    return idx >= 0;
}

}  // namespace

ClientCertificate inspect_client_certificate(SSL* ssl) {
    ClientCertificate out;
    X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert) return out;
    out.present = true;
    out.verified = SSL_get_verify_result(ssl) == X509_V_OK;
    X509_NAME* subject = X509_get_subject_name(cert.get());
    int idx = X509_NAME_get_index_by_NID(subject, NID_userId, -1);
    if (idx >= 0) {
        ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
        unsigned char* utf8 = nullptr;
        int len = ASN1_STRING_to_UTF8(&utf8, data);
        if (len > 0) out.topic.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
        OPENSSL_free(utf8);
    }
    out.multi_topic = has_extension(cert.get(), "1.2.840.113635.100.6.3.6");
    // Apple's push certificates mark the environments they serve: .3.1 development, .3.2 production.
    bool dev = has_extension(cert.get(), "1.2.840.113635.100.6.3.1");
    bool prod = has_extension(cert.get(), "1.2.840.113635.100.6.3.2");
    if (dev || prod) {
        out.sandbox = dev;
        out.production = prod;
    }
    return out;
}

}  // namespace apns_sim
