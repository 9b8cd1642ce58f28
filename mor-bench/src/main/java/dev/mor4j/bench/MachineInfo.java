package dev.mor4j.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.nd4j.linalg.factory.Nd4j;

/** What a benchmark ran on: CPU model, cores, JVM, ND4J backend and BLAS, and the load average. */
public final class MachineInfo {

    private MachineInfo() {
    }

    /** The {@code model name} of /proc/cpuinfo, or "unknown". */
    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return "unknown";
    }

    /** The 1-minute load average, or -1. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The version of the JavaCPP OpenBLAS build on the class path (e.g. {@code 0.3.21-1.5.8}: OpenBLAS 0.3.21 for
     * JavaCPP 1.5.8), from its Maven metadata, or "?" when there is none (the CUDA profile).
     */
    public static String openBlasVersion() {
        return resourceProperty("/META-INF/maven/org.bytedeco/openblas/pom.properties", "version");
    }

    /** A property of a properties file on the class path, or {@code ?} when there is none. */
    static String resourceProperty(String resource, String key) {
        try (InputStream in = MachineInfo.class.getResourceAsStream(resource)) {
            if (in == null) {
                return "?";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(key, "?");
        } catch (IOException e) {
            return "?";
        }
    }

    /** The machine as a JSON object. */
    public static ObjectNode json() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("cpu", cpuModel());
        o.put("cores", Runtime.getRuntime().availableProcessors());
        o.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        o.put("nd4j_backend", String.valueOf(env.getOrDefault("backend", "?")));
        o.put("blas", String.valueOf(env.getOrDefault("blas.vendor", "?")));
        o.put("openblas", openBlasVersion());
        o.put("nd4j_threads", String.valueOf(env.getOrDefault("omp.threads", "?")));
        o.put("load_average_1min", loadAverage());
        return o;
    }

    /** One line: CPU, cores, JVM, backend and BLAS. */
    public static String line(ObjectNode m) {
        String blas = m.get("blas").asText();
        String openBlas = m.path("openblas").asText("?"); // absent in reports written before it was recorded
        if (!openBlas.equals("?")) {
            blas += " " + openBlas;
        }
        return String.format("%s, %d cores, %s, ND4J %s (%s, %s threads), load %.2f", m.get("cpu").asText(),
                m.get("cores").asInt(), m.get("jvm").asText(), m.get("nd4j_backend").asText(), blas,
                m.get("nd4j_threads").asText(), m.get("load_average_1min").asDouble());
    }
}
