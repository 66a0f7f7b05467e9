// The host monitor, installed on every host and run by activemq-ha-monitor.service as the broker's user with the
// JDK's single-file launcher (java HostMonitor.java): the host's JRE is all it needs, nothing is downloaded.
// HTTP on MONITOR_PORT (the firewall opens it to the group's members and to monitoringCidrs only):
//   GET /health/master  200 when this host's broker is its group's master (it listens on BROKER_PORT), else 503
//   GET /health/group   200 when this host is a member of a healthy group: its broker runs, its ZooKeeper (if
//                       deployed) is in a quorum, and exactly one member of the group is master; else 503
//   GET /metrics        Prometheus text: the broker's destinations and JVM heap (read over JMX from the broker's
//                       JVM, attached as its own user), ZooKeeper's mntr figures, this host's roles
//   GET /status         key=value lines for npm run status (scripts/host-status.sh reads them over loopback)
// Inputs (the unit's environment): MONITOR_PORT, BROKER_PORT, ZOOKEEPER_CLIENT_PORT (empty: none deployed),
// SELF_INDEX, NODES (INDEX=ADDRESS of every group member, space-separated).
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public final class HostMonitor {
  /** A peer's /health/master must answer within this: a dead host must not hold up a load balancer's poll. */
  private static final int PEER_TIMEOUT_MS = 1500;
  private static final int ZOOKEEPER_TIMEOUT_MS = 2000;
  private static final String ADVISORY = "ActiveMQ.Advisory.";

  private final int monitorPort;
  private final int brokerPort;
  private final Integer zookeeperPort;
  private final int selfIndex;
  private final Map<Integer, String> nodes;
  private Broker broker;
  /** The broker's figures as last read, and when: answers never wait on an attach or a slow JMX call. */
  private volatile Optional<BrokerFigures> lastFigures = Optional.empty();
  private volatile long lastFiguresAt;
  /** Figures older than this are not shown: the refresher is stuck or the broker's JVM is gone. */
  private static final long FIGURES_FRESH_MS = 30_000;
  private static final long REFRESH_EVERY_MS = 5_000;

  HostMonitor(Map<String, String> env) {
    monitorPort = Integer.parseInt(required(env, "MONITOR_PORT"));
    brokerPort = Integer.parseInt(required(env, "BROKER_PORT"));
    String zk = env.getOrDefault("ZOOKEEPER_CLIENT_PORT", "");
    zookeeperPort = zk.isBlank() ? null : Integer.valueOf(zk.trim());
    selfIndex = Integer.parseInt(required(env, "SELF_INDEX"));
    nodes = new LinkedHashMap<>();
    for (String entry : required(env, "NODES").trim().split("\\s+")) {
      String[] parts = entry.split("=", 2);
      nodes.put(Integer.valueOf(parts[0]), parts[1]);
    }
    if (!nodes.containsKey(selfIndex)) {
      throw new IllegalArgumentException("SELF_INDEX " + selfIndex + " is not one of NODES");
    }
  }

  private static String required(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("missing input " + name);
    }
    return value;
  }

  /**
   * Listens on this host's address in the group (where peers and monitoringCidrs reach it) and on loopback (npm run
   * status, over SSH), not on every interface.
   */
  public static void main(String[] args) throws IOException {
    HostMonitor monitor = new HostMonitor(System.getenv());
    Executors.newSingleThreadScheduledExecutor()
        .scheduleWithFixedDelay(monitor::refresh, 0, REFRESH_EVERY_MS, TimeUnit.MILLISECONDS);
    for (String address : new LinkedHashSet<>(List.of(monitor.nodes.get(monitor.selfIndex), "127.0.0.1"))) {
      HttpServer server = HttpServer.create(new InetSocketAddress(address, monitor.monitorPort), 16);
      server.createContext("/health/master", e -> monitor.answer(e, monitor::masterHealth));
      server.createContext("/health/group", e -> monitor.answer(e, monitor::groupHealth));
      server.createContext("/metrics", e -> monitor.answer(e, monitor::metrics));
      server.createContext("/status", e -> monitor.answer(e, monitor::status));
      server.setExecutor(Executors.newFixedThreadPool(4));
      server.start();
      System.out.println("host monitor listening on " + address + ":" + monitor.monitorPort);
    }
  }

  /** A status code and a text body. */
  record Answer(int code, String contentType, String body) {
    static Answer text(int code, String body) {
      return new Answer(code, "text/plain; charset=utf-8", body);
    }
  }

  interface Handler {
    Answer handle() throws Exception;
  }

  private void answer(HttpExchange exchange, Handler handler) throws IOException {
    Answer answer;
    try {
      answer = handler.handle();
    } catch (Exception e) {
      answer = Answer.text(500, "monitor error: " + e + "\n");
    }
    byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", answer.contentType());
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(answer.code(), head ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      if (!head) {
        out.write(body);
      }
    }
  }

  // ------------------------------------------------------------------ health

  /** The master listens on the client port; slaves do not (the same test as broker_role in common.sh). */
  boolean brokerListens() throws IOException {
    return listeningPorts().contains(brokerPort);
  }

  Answer masterHealth() throws IOException {
    return brokerListens()
        ? Answer.text(200, "master\n")
        : Answer.text(503, "not master\n");
  }

  Answer groupHealth() throws IOException {
    List<String> problems = new ArrayList<>();
    if (brokerPid().isEmpty()) {
      problems.add("this host's broker is not running");
    }
    if (zookeeperPort != null) {
      String mode = zookeeperFigures().getOrDefault("zk_server_state", "down");
      if (!mode.equals("leader") && !mode.equals("follower")) {
        problems.add("this host's ZooKeeper is not in a quorum (" + mode + ")");
      }
    }
    List<Integer> masters = new ArrayList<>();
    for (Map.Entry<Integer, String> node : nodes.entrySet()) {
      boolean master = node.getKey() == selfIndex ? brokerListens() : peerIsMaster(node.getValue());
      if (master) {
        masters.add(node.getKey());
      }
    }
    if (masters.size() != 1) {
      problems.add(masters.isEmpty() ? "the group has no master" : "the group has " + masters.size() + " masters: nodes " + masters);
    }
    return problems.isEmpty()
        ? Answer.text(200, "healthy: master node " + masters.get(0) + "\n")
        : Answer.text(503, String.join("\n", problems) + "\n");
  }

  /** Asks the peer's monitor, not its broker: a bare TCP probe of a broker costs it a WARN line each time. */
  private boolean peerIsMaster(String address) {
    try {
      HttpURLConnection c =
          (HttpURLConnection) URI.create("http://" + address + ":" + monitorPort + "/health/master").toURL().openConnection();
      c.setConnectTimeout(PEER_TIMEOUT_MS);
      c.setReadTimeout(PEER_TIMEOUT_MS);
      int code = c.getResponseCode();
      c.disconnect();
      return code == 200;
    } catch (IOException e) {
      return false;
    }
  }

  /** The TCP ports something listens on, from /proc/net/tcp and tcp6 (what `ss -ltn` reads). */
  static List<Integer> listeningPorts() throws IOException {
    List<Integer> ports = new ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.exists(path)) {
        continue;
      }
      for (String line : Files.readAllLines(path)) {
        String[] f = line.trim().split("\\s+");
        // sl local_address rem_address st ...; st 0A is LISTEN
        if (f.length > 3 && f[3].equals("0A")) {
          String local = f[1];
          ports.add(Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  // ------------------------------------------------------------------ ZooKeeper

  /** ZooKeeper's mntr answer as key and value; empty when it does not answer. */
  Map<String, String> zookeeperFigures() {
    Map<String, String> figures = new LinkedHashMap<>();
    if (zookeeperPort == null) {
      return figures;
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", zookeeperPort), ZOOKEEPER_TIMEOUT_MS);
      s.setSoTimeout(ZOOKEEPER_TIMEOUT_MS);
      s.getOutputStream().write("mntr".getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      for (String line : text.split("\n")) {
        String[] kv = line.split("\t", 2);
        if (kv.length == 2) {
          figures.put(kv[0].trim(), kv[1].trim());
        }
      }
    } catch (IOException e) {
      figures.clear();
    }
    return figures;
  }

  // ------------------------------------------------------------------ the broker's JVM

  /**
   * The broker's JVM: a java process of this user running ActiveMQ's launcher as a broker (bin/activemq console
   * starts it from a shell, whose command line says the same), not one of its tools (bin/activemq producer, ...).
   */
  static Optional<Long> brokerPid() {
    String self = System.getProperty("user.name");
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().user().map(self::equals).orElse(false))
        .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
        .filter(p -> p.info().arguments().map(a -> String.join(" ", a).matches(".*activemq\\.jar (console|start)\\b.*")).orElse(false))
        .map(ProcessHandle::pid)
        .findFirst();
  }

  /** A JMX connection to the broker's JVM, kept while the same JVM runs. */
  record Broker(long pid, JMXConnector connector, MBeanServerConnection server) {}

  private synchronized Optional<MBeanServerConnection> brokerJmx() {
    Optional<Long> pid = brokerPid();
    if (broker != null && (pid.isEmpty() || pid.get() != broker.pid())) {
      close();
    }
    if (pid.isEmpty()) {
      return Optional.empty();
    }
    if (broker == null) {
      try {
        VirtualMachine vm = VirtualMachine.attach(String.valueOf(pid.get()));
        String url;
        try {
          // The JDK's local management agent: loopback only, its port known to this user (no password).
          url = vm.startLocalManagementAgent();
        } finally {
          vm.detach();
        }
        JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(url));
        broker = new Broker(pid.get(), connector, connector.getMBeanServerConnection());
      } catch (Exception e) {
        System.out.println("cannot attach to the broker's JVM (pid " + pid.get() + "): " + e);
        return Optional.empty();
      }
    }
    return Optional.of(broker.server());
  }

  private synchronized void close() {
    if (broker != null) {
      try {
        broker.connector().close();
      } catch (IOException ignored) {
        // the JVM is gone
      }
      broker = null;
    }
  }

  /** One destination's figures. */
  record Destination(String type, String name, long size, long enqueued, long dequeued, long consumers) {}

  /** The heap and destinations of the broker's JVM; empty when it cannot be read (a slave has no destinations). */
  record BrokerFigures(MemoryUsage heap, List<Destination> destinations) {}

  /** Reads the broker's figures (attaching to its JVM when it is new); on the refresher's thread only. */
  void refresh() {
    try {
      lastFigures = readBrokerFigures();
    } catch (RuntimeException e) {
      lastFigures = Optional.empty();
    }
    lastFiguresAt = System.currentTimeMillis();
  }

  /** The figures the refresher read last, while fresh. */
  Optional<BrokerFigures> brokerFigures() {
    return System.currentTimeMillis() - lastFiguresAt < FIGURES_FRESH_MS ? lastFigures : Optional.empty();
  }

  private Optional<BrokerFigures> readBrokerFigures() {
    Optional<MBeanServerConnection> jmx = brokerJmx();
    if (jmx.isEmpty()) {
      return Optional.empty();
    }
    try {
      MBeanServerConnection server = jmx.get();
      MemoryMXBean memory =
          ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
      List<Destination> destinations = new ArrayList<>();
      for (String type : List.of("Queue", "Topic")) {
        ObjectName pattern = new ObjectName(
            "org.apache.activemq:type=Broker,brokerName=*,destinationType=" + type + ",destinationName=*");
        for (ObjectName name : server.queryNames(pattern, null)) {
          String destination = name.getKeyProperty("destinationName");
          if (destination.startsWith(ADVISORY)) {
            continue;
          }
          destinations.add(new Destination(
              type.toLowerCase(Locale.ROOT),
              destination,
              (Long) server.getAttribute(name, "QueueSize"),
              (Long) server.getAttribute(name, "EnqueueCount"),
              (Long) server.getAttribute(name, "DequeueCount"),
              (Long) server.getAttribute(name, "ConsumerCount")));
        }
      }
      return Optional.of(new BrokerFigures(memory.getHeapMemoryUsage(), destinations));
    } catch (Exception e) {
      close();
      return Optional.empty();
    }
  }

  // ------------------------------------------------------------------ answers

  Answer metrics() throws IOException {
    StringBuilder out = new StringBuilder();
    gauge(out, "activemq_ha_broker_master", "1 when this host's broker is its group's master", brokerListens() ? 1 : 0);
    gauge(out, "activemq_ha_broker_running", "1 when this host's broker JVM runs", brokerPid().isPresent() ? 1 : 0);
    Optional<BrokerFigures> figures = brokerFigures();
    if (figures.isPresent()) {
      MemoryUsage heap = figures.get().heap();
      gauge(out, "activemq_jvm_heap_used_bytes", "the broker JVM's heap in use", heap.getUsed());
      gauge(out, "activemq_jvm_heap_max_bytes", "the broker JVM's largest heap", heap.getMax());
      family(out, figures.get().destinations(), "size", "gauge", "messages waiting on the destination", Destination::size);
      family(out, figures.get().destinations(), "enqueue_count", "counter", "messages sent to the destination", Destination::enqueued);
      family(out, figures.get().destinations(), "dequeue_count", "counter", "messages acknowledged from it", Destination::dequeued);
      family(out, figures.get().destinations(), "consumer_count", "gauge", "consumers of the destination", Destination::consumers);
    }
    if (zookeeperPort != null) {
      Map<String, String> zk = zookeeperFigures();
      gauge(out, "zookeeper_up", "1 when this host's ZooKeeper answers mntr", zk.isEmpty() ? 0 : 1);
      for (Map.Entry<String, String> figure : zk.entrySet()) {
        String value = figure.getValue();
        if (figure.getKey().startsWith("zk_") && value.matches("-?\\d+(\\.\\d+)?")) {
          String name = "zookeeper_" + figure.getKey().substring(3).replaceAll("[^A-Za-z0-9_]", "_");
          out.append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(value).append('\n');
        }
      }
      String state = zk.getOrDefault("zk_server_state", "down");
      out.append("# TYPE zookeeper_server_state gauge\n");
      for (String s : List.of("leader", "follower", "standalone", "down")) {
        out.append("zookeeper_server_state{state=\"").append(s).append("\"} ").append(s.equals(state) ? 1 : 0).append('\n');
      }
    }
    return new Answer(200, "text/plain; version=0.0.4; charset=utf-8", out.toString());
  }

  private static void gauge(StringBuilder out, String name, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" gauge\n");
    out.append(name).append(' ').append(value).append('\n');
  }

  interface Figure {
    long of(Destination d);
  }

  private static void family(
      StringBuilder out, List<Destination> destinations, String suffix, String type, String help, Figure figure) {
    for (String kind : List.of("queue", "topic")) {
      String name = "activemq_" + kind + "_" + suffix;
      out.append("# HELP ").append(name).append(' ').append(help).append('\n');
      out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
      for (Destination d : destinations) {
        if (d.type().equals(kind)) {
          out.append(name).append("{destination=\"").append(escape(d.name())).append("\"} ").append(figure.of(d)).append('\n');
        }
      }
    }
  }

  static String escape(String label) {
    return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  /** For npm run status: heap, the DLQ's depth and the three deepest queues (name:size, comma-separated). */
  Answer status() {
    StringBuilder out = new StringBuilder();
    Optional<BrokerFigures> figures = brokerFigures();
    if (figures.isPresent()) {
      MemoryUsage heap = figures.get().heap();
      List<Destination> queues = new ArrayList<>(
          figures.get().destinations().stream().filter(d -> d.type().equals("queue")).toList());
      long dlq = queues.stream().filter(d -> d.name().equals("ActiveMQ.DLQ") || d.name().startsWith("DLQ.") || d.name().startsWith("ActiveMQ.DLQ."))
          .mapToLong(Destination::size).sum();
      queues.sort(Comparator.comparingLong(Destination::size).reversed().thenComparing(Destination::name));
      List<String> deepest = queues.stream().filter(d -> d.size() > 0).limit(3)
          .map(d -> d.name().replace(",", "%2C") + ":" + d.size()).toList();
      out.append("heap_used_mb=").append(heap.getUsed() >> 20).append('\n');
      out.append("heap_max_mb=").append(heap.getMax() >> 20).append('\n');
      out.append("queues=").append(queues.size()).append('\n');
      out.append("dlq_depth=").append(dlq).append('\n');
      out.append("deepest=").append(String.join(",", deepest)).append('\n');
    }
    return Answer.text(200, out.toString());
  }
}
