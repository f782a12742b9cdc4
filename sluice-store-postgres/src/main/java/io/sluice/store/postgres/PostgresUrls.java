package io.sluice.store.postgres;

import io.sluice.core.log.StoreException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** PostgreSQL connection URLs: the libpq form users know, turned into the JDBC form, and redacted for logs. */
public final class PostgresUrls {
    private PostgresUrls() {}

    /**
     * {@code jdbc:postgresql://...} as given; {@code postgres://user:password@host:port/db?params}
     * (or {@code postgresql://}) turned into the JDBC URL with user and password as parameters.
     */
    public static String toJdbc(String url) {
        if (url.startsWith("jdbc:postgresql:")) {
            return url;
        }
        if (!url.startsWith("postgres://") && !url.startsWith("postgresql://")) {
            throw new StoreException("PostgreSQL URL '" + redact(url)
                    + "' must start with jdbc:postgresql://, postgres:// or postgresql://");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new StoreException("PostgreSQL URL '" + redact(url) + "' is not a valid URL: " + e.getReason(), e);
        }
        StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(uri.getHost());
        if (uri.getPort() > 0) {
            jdbc.append(':').append(uri.getPort());
        }
        jdbc.append(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath());
        StringBuilder params = new StringBuilder(uri.getRawQuery() == null ? "" : uri.getRawQuery());
        if (uri.getUserInfo() != null) {
            String[] user = uri.getUserInfo().split(":", 2);
            append(params, "user", user[0]);
            if (user.length == 2) {
                append(params, "password", user[1]);
            }
        }
        if (!params.isEmpty()) {
            jdbc.append('?').append(params);
        }
        return jdbc.toString();
    }

    private static void append(StringBuilder params, String key, String value) {
        if (!params.isEmpty()) {
            params.append('&');
        }
        params.append(key).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
    }

    /** The URL without its password, for messages and logs. */
    public static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***").replaceAll("(//[^/:@]*:)[^@/]*@", "$1***@");
    }
}
