package io.sluice.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.core.log.StoreException;
import org.junit.jupiter.api.Test;

class PostgresUrlsTest {
    @Test
    void libpqUrlsBecomeJdbcUrlsWithUserAndPasswordAsParameters() {
        assertThat(PostgresUrls.toJdbc("jdbc:postgresql://h/db?user=u")).isEqualTo("jdbc:postgresql://h/db?user=u");
        assertThat(PostgresUrls.toJdbc("postgres://u:p%40ss@h:5433/db"))
                .isEqualTo("jdbc:postgresql://h:5433/db?user=u&password=p%40ss");
        assertThat(PostgresUrls.toJdbc("postgresql://h/db?sslmode=require"))
                .isEqualTo("jdbc:postgresql://h/db?sslmode=require");
    }

    @Test
    void passwordsAreRedactedAndOtherSchemesRefused() {
        assertThat(PostgresUrls.redact("jdbc:postgresql://h/db?user=u&password=secret&x=1"))
                .isEqualTo("jdbc:postgresql://h/db?user=u&password=***&x=1");
        assertThat(PostgresUrls.redact("postgres://u:secret@h/db")).isEqualTo("postgres://u:***@h/db");
        assertThatThrownBy(() -> PostgresUrls.toJdbc("mysql://u:secret@h/db"))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("must start with jdbc:postgresql://")
                .hasMessageNotContaining("secret");
    }

    @Test
    void aBadSchemaNameIsRefusedBeforeConnecting() {
        assertThatThrownBy(() -> PostgresEventStore.open("jdbc:postgresql://nowhere/db", "Bad-Name"))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("schema name 'Bad-Name'");
    }
}
