package io.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher scripts: {@code bin/find-jdk.sh} picks a JDK of 21 or newer from JAVA_HOME, the
 * {@code java} on PATH or the usual install places, and {@code ./sluice} builds the jar on first
 * use and when sources are newer, then runs it with that JDK. The JDKs here are directories
 * whose {@code bin/java} reports a version and echoes how it was run, and the build is a
 * stand-in {@code mvnw} that writes the jar and logs each call; the scripts themselves are the
 * repository's, run by bash with a PATH holding nothing but the tools they use.
 */
class LauncherTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final List<String> TOOLS = List.of(
            "dirname",
            "readlink",
            "sed",
            "find",
            "touch",
            "flock",
            "head",
            "cat",
            "mkdir",
            "basename",
            "tr",
            "uname",
            "bash");

    @TempDir
    Path dir;

    private Path tools;
    private Path jvms;

    @BeforeEach
    void tools() throws IOException {
        tools = Files.createDirectories(dir.resolve("tools"));
        for (String tool : TOOLS) {
            for (String place : List.of("/usr/bin/", "/bin/")) {
                Path found = Path.of(place + tool);
                if (Files.isExecutable(found)) {
                    script(tools.resolve(tool), "#!/bin/sh\nexec " + found + " \"$@\"\n");
                    break;
                }
            }
        }
        jvms = Files.createDirectories(dir.resolve("jvm"));
    }

    @Test
    void prefersJavaHomeWhenItIsNewEnough() throws Exception {
        Path jdk22 = jdk(jvms.resolve("jdk-22"), "22.0.2", true);
        jdk(jvms.resolve("jdk-25"), "25.0.1", true);
        Run found = findJdk(Map.of("JAVA_HOME", jdk22.toString(), "SLUICE_JDK_DIRS", jvms.toString()));
        assertThat(found.exit).isZero();
        assertThat(found.out).isEqualTo(jdk22 + "\n");
    }

    @Test
    void passesOverAnOldJavaHomeAndOldJavaOnPathForTheNewestInstalled() throws Exception {
        Path jdk17 = jdk(dir.resolve("jdk-17"), "17.0.9", true);
        Path onPath = Files.createDirectories(dir.resolve("path"));
        Files.createSymbolicLink(onPath.resolve("java"), jdk17.resolve("bin/java"));
        jdk(jvms.resolve("zulu-21"), "21.0.5", true); // listed last
        Path jdk25 = jdk(jvms.resolve("temurin-25"), "25.0.1", false); // no release file: asks java
        jre(jvms.resolve("jre-26"), "26"); // no javac: not a JDK
        jdk(jvms.resolve("java-8"), "1.8.0_392", false);
        Run found = findJdk(Map.of(
                "JAVA_HOME", jdk17.toString(),
                "SLUICE_JDK_DIRS", jvms.toString(),
                "PATH", onPath + ":" + tools));
        assertThat(found.exit).isZero();
        assertThat(found.out).isEqualTo(jdk25 + "\n");
    }

    @Test
    void followsTheJavaOnPathToItsJdk() throws Exception {
        Path jdk23 = jdk(dir.resolve("opt/jdk-23"), "23", true);
        Path onPath = Files.createDirectories(dir.resolve("path"));
        Files.createSymbolicLink(onPath.resolve("java"), jdk23.resolve("bin/java"));
        jdk(jvms.resolve("jdk-25"), "25.0.1", true);
        Run found = findJdk(Map.of("SLUICE_JDK_DIRS", jvms.toString(), "PATH", onPath + ":" + tools));
        assertThat(found.exit).isZero();
        assertThat(found.out).isEqualTo(jdk23 + "\n");
    }

    @Test
    void saysWhereItLookedWhenNoJdkIsNewEnough() throws Exception {
        jdk(jvms.resolve("jdk-17"), "17.0.9", true);
        Run found = findJdk(Map.of("SLUICE_JDK_DIRS", jvms.toString()));
        assertThat(found.exit).isEqualTo(1);
        assertThat(found.out).isEmpty();
        assertThat(found.err)
                .contains("no JDK 21 or newer found")
                .contains(jvms.toString())
                .contains("JAVA_HOME");
    }

    @Test
    void sluiceBuildsOnFirstUseAndWhenSourcesAreNewerThenRunsTheJar() throws Exception {
        Path checkout = checkout();
        Path jdk = jdk(jvms.resolve("jdk-25"), "25.0.1", true);
        Path old = jdk(dir.resolve("jdk-17"), "17.0.9", true);
        Map<String, String> env = Map.of("JAVA_HOME", old.toString(), "SLUICE_JDK_DIRS", jvms.toString());
        Path jar = checkout.resolve("sluice-server/target/sluice.jar");

        Run first = sluice(checkout, env, "version");
        assertThat(first.exit).as(first.err).isZero();
        assertThat(first.err).contains("building the distribution jar");
        assertThat(builds(checkout))
                .containsExactly("-q -f " + checkout.resolve("pom.xml") + " -DskipTests -pl sluice-server -am package");
        assertThat(first.out).isEqualTo("ran " + jdk + " -jar " + jar + " version\n");

        Run again = sluice(checkout, env, "match", "--filter", "{\"a\": 1}");
        assertThat(again.exit).isZero();
        assertThat(again.err).doesNotContain("building");
        assertThat(builds(checkout)).hasSize(1);
        assertThat(again.out).isEqualTo("ran " + jdk + " -jar " + jar + " match --filter {\"a\": 1}\n");

        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(60)));
        Files.writeString(checkout.resolve("sluice-query/src/main/java/Changed.java"), "class Changed {}");
        Run changed = sluice(checkout, env, "version");
        assertThat(changed.exit).isZero();
        assertThat(builds(checkout)).hasSize(2);

        Path test =
                Files.writeString(checkout.resolve("sluice-query/src/test/java/OnlyATest.java"), "class OnlyATest {}");
        Files.setLastModifiedTime(test, FileTime.from(Instant.now().plusSeconds(3600)));
        assertThat(sluice(checkout, env, "version").exit).isZero();
        assertThat(builds(checkout)).as("tests are not in the jar").hasSize(2);

        Files.setLastModifiedTime(
                checkout.resolve("pom.xml"), FileTime.from(Instant.now().plusSeconds(3600)));
        assertThat(sluice(checkout, env, "version").exit).isZero();
        assertThat(builds(checkout)).as("the build changed").hasSize(3);
    }

    @Test
    void sluiceStopsWithoutAJdk() throws Exception {
        Path checkout = checkout();
        Run run = sluice(checkout, Map.of("SLUICE_JDK_DIRS", jvms.toString()), "version");
        assertThat(run.exit).isEqualTo(1);
        assertThat(run.err).contains("no JDK 21 or newer found");
        assertThat(builds(checkout)).isEmpty();
    }

    @Test
    void mvnwRunsMavenOnTheJdkTheLauncherWouldChoose() throws Exception {
        Path checkout = mavenCheckout();
        Path jdk = jdk(jvms.resolve("jdk-25"), "25.0.1", true);
        Path old = jdk(dir.resolve("jdk-17"), "17.0.9", true);
        Path onPath = Files.createDirectories(dir.resolve("path"));
        Files.createSymbolicLink(onPath.resolve("java"), old.resolve("bin/java"));
        Map<String, String> env = Map.of(
                "SLUICE_JDK_DIRS", jvms.toString(),
                "MAVEN_USER_HOME", dir.resolve("m2").toString(),
                "PATH", onPath + ":" + tools);

        Run unset = bash(env, checkout, checkout.resolve("mvnw").toString(), "verify");
        assertThat(unset.exit).as(unset.err).isZero();
        assertThat(unset.out).isEqualTo("maven on " + jdk + " with ' --sun-misc-unsafe-memory-access=allow': verify\n");

        Map<String, String> oldHome = new HashMap<>(env);
        oldHome.put("JAVA_HOME", old.toString());
        Run tooOld = bash(oldHome, checkout, checkout.resolve("mvnw").toString(), "-q", "verify");
        assertThat(tooOld.exit).as(tooOld.err).isZero();
        assertThat(tooOld.out).startsWith("maven on " + jdk + " ").endsWith(": -q verify\n");

        Path jdk21 = jdk(dir.resolve("jdk-21"), "21.0.5", true);
        Map<String, String> chosen = new HashMap<>(env);
        chosen.put("JAVA_HOME", jdk21.toString());
        Run kept = bash(chosen, checkout, checkout.resolve("mvnw").toString(), "verify");
        assertThat(kept.out).as("a new enough JAVA_HOME is kept").isEqualTo("maven on " + jdk21 + " with '': verify\n");
    }

    @Test
    void mvnwStopsWithTheLaunchersAdviceWithoutANewEnoughJdk() throws Exception {
        Path checkout = mavenCheckout();
        Path old = jdk(jvms.resolve("jdk-17"), "17.0.9", true);
        Run run = bash(
                Map.of(
                        "JAVA_HOME", old.toString(),
                        "SLUICE_JDK_DIRS", jvms.toString(),
                        "MAVEN_USER_HOME", dir.resolve("m2").toString()),
                checkout,
                checkout.resolve("mvnw").toString(),
                "verify");
        assertThat(run.exit).isEqualTo(1);
        assertThat(run.err).contains("no JDK 21 or newer found");
        assertThat(run.out).as("Maven did not run").isEmpty();
    }

    // ------------------------------------------------------------------ set-up

    /** A checkout holding the launcher, its JDK finder, poms, sources, and a stand-in build. */
    private Path checkout() throws IOException {
        Path checkout = Files.createDirectories(dir.resolve("checkout"));
        Files.createDirectories(checkout.resolve("bin"));
        Files.copy(ROOT.resolve("sluice"), checkout.resolve("sluice"));
        Files.copy(ROOT.resolve("bin/find-jdk.sh"), checkout.resolve("bin/find-jdk.sh"));
        for (String module : List.of("sluice-query", "sluice-server")) {
            Files.createDirectories(checkout.resolve(module + "/src/main/java"));
            Files.createDirectories(checkout.resolve(module + "/src/test/java"));
            Files.writeString(checkout.resolve(module + "/pom.xml"), "<project/>");
        }
        Files.writeString(checkout.resolve("pom.xml"), "<project/>");
        script(checkout.resolve("mvnw"), """
                #!/bin/sh
                here=$(dirname "$0")
                echo "$*" >> "$here/builds.log"
                mkdir -p "$here/sluice-server/target"
                echo jar > "$here/sluice-server/target/sluice.jar"
                """);
        return checkout;
    }

    /**
     * A checkout holding the repository's Maven wrapper and JDK finder, with the wrapper's Maven
     * already installed under {@code MAVEN_USER_HOME} as a stand-in that reports the JDK it got.
     */
    private Path mavenCheckout() throws IOException {
        Path checkout = Files.createDirectories(dir.resolve("maven-checkout"));
        Files.createDirectories(checkout.resolve("bin"));
        Files.createDirectories(checkout.resolve(".mvn/wrapper"));
        Files.copy(ROOT.resolve("mvnw"), checkout.resolve("mvnw"));
        Files.copy(ROOT.resolve("bin/find-jdk.sh"), checkout.resolve("bin/find-jdk.sh"));
        Path properties = ROOT.resolve(".mvn/wrapper/maven-wrapper.properties");
        Files.copy(properties, checkout.resolve(".mvn/wrapper/maven-wrapper.properties"));
        String url = Files.readAllLines(properties).stream()
                .filter(l -> l.startsWith("distributionUrl="))
                .map(l -> l.substring("distributionUrl=".length()).strip())
                .findFirst()
                .orElseThrow();
        String name = url.substring(url.lastIndexOf('/') + 1).replaceFirst("-bin\\.zip$", "");
        // The wrapper's directory for a distribution: its name and the URL's String.hashCode in hex.
        Path home = dir.resolve("m2/wrapper/dists/" + name + "/" + Integer.toHexString(url.hashCode()));
        script(home.resolve("bin/mvn"), """
                #!/bin/sh
                echo "maven on $JAVA_HOME with '${MAVEN_OPTS:-}': $*"
                """);
        return checkout;
    }

    private static List<String> builds(Path checkout) throws IOException {
        Path log = checkout.resolve("builds.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    /** A JDK whose java reports {@code version} and echoes its home and arguments when run. */
    private static Path jdk(Path home, String version, boolean releaseFile) throws IOException {
        jre(home, version);
        script(home.resolve("bin/javac"), "#!/bin/sh\n");
        if (releaseFile) {
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + version + "\"\n");
        }
        return home;
    }

    private static Path jre(Path home, String version) throws IOException {
        script(home.resolve("bin/java"), """
                #!/bin/sh
                if [ "$1" = "-version" ]; then
                  echo 'openjdk version "%s" 2026-01-20' >&2
                  exit 0
                fi
                echo "ran %s $*"
                """.formatted(version, home));
        return home;
    }

    private static void script(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    // ------------------------------------------------------------------ running

    private record Run(int exit, String out, String err) {}

    private Run findJdk(Map<String, String> env) throws Exception {
        return bash(env, ROOT, "-c", ". bin/find-jdk.sh && sluice_find_jdk && echo \"$JAVA_HOME\"");
    }

    private Run sluice(Path checkout, Map<String, String> env, String... args) throws Exception {
        List<String> command =
                new ArrayList<>(List.of(checkout.resolve("sluice").toString()));
        command.addAll(List.of(args));
        return bash(env, checkout, command.toArray(String[]::new));
    }

    /** Runs bash with only {@code env} (and HOME and a PATH of the tools unless given). */
    private Run bash(Map<String, String> env, Path workDir, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Files.isExecutable(Path.of("/bin/bash")) ? "/bin/bash" : "/usr/bin/bash");
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        Map<String, String> environment = builder.environment();
        environment.clear();
        environment.putAll(new HashMap<>(Map.of("HOME", dir.toString(), "PATH", tools.toString())));
        environment.putAll(env);
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("finished").isTrue();
        return new Run(
                process.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
