// Failover probe for the ActiveMQ end-to-end tests.
//
// Single file, no build tool. Compile against a broker distribution, e.g.
//   javac -d OUT -cp "$DIST/lib/*:$DIST/lib/optional/*" FailoverProbe.java
//   java -cp "OUT:$DIST/lib/*:$DIST/lib/optional/*" FailoverProbe send URL USER PASSWORD QUEUE STATEFILE
// Only the JMS 1.1 API and org.apache.activemq.ActiveMQConnectionFactory are used, so it
// builds against ActiveMQ 5.16.x (Apache layout) and 5.17.x (Debian-built layout) alike.
//
// Modes:
//   send  URL USER PASSWORD QUEUE STATEFILE
//       Sends persistent TextMessages back to back with synchronous sends. Each message
//       carries its sequence number as the long property "seq" and as the body. After each
//       acknowledged send, "seq epochMillis" is appended to STATEFILE and flushed. A send
//       that throws is logged to stderr and the SAME seq is retried on a new connection.
//       Runs until the file STATEFILE.stop exists. If STATEFILE already holds lines, the
//       sequence continues after the highest seq in it. With PROBE_BODY_BYTES=N in the
//       environment each body is the seq padded with spaces to N bytes (the benchmark's 1 KiB).
//   drain URL USER PASSWORD QUEUE OUTFILE
//       Consumes QUEUE and then ActiveMQ.DLQ, each until 5 s pass without a message, and
//       writes the seq of every received message to OUTFILE, one per line.
//   receive URL USER PASSWORD QUEUE OUTFILE
//       Consumes QUEUE without pause (a consumer on another HA group than the producer's,
//       fed by the network bridge) and appends "seq epochMillis" to OUTFILE after each
//       message, until the file OUTFILE.stop exists. The failover transport reconnects on its
//       own; an exception reopens the consumer.
//
// Exit codes: 0 done, 1 failure, 2 usage.

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;

import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.Session;
import javax.jms.TextMessage;

import org.apache.activemq.ActiveMQConnectionFactory;

public final class FailoverProbe {

    private static final String DLQ = "ActiveMQ.DLQ";
    private static final long DRAIN_IDLE_MS = 5000L;
    private static final long RETRY_PAUSE_MS = 200L;
    /** The size each sent body is padded to (PROBE_BODY_BYTES); 0 sends the seq alone. */
    private static final int BODY_BYTES = bodyBytes(System.getenv("PROBE_BODY_BYTES"));

    private FailoverProbe() {
    }

    public static void main(String[] args) {
        if (args.length != 6
                || !("send".equals(args[0]) || "drain".equals(args[0]) || "receive".equals(args[0]))) {
            System.err.println("usage: FailoverProbe send URL USER PASSWORD QUEUE STATEFILE");
            System.err.println("       FailoverProbe drain URL USER PASSWORD QUEUE OUTFILE");
            System.err.println("       FailoverProbe receive URL USER PASSWORD QUEUE OUTFILE");
            System.exit(2);
            return;
        }
        String url = args[1];
        String user = args[2];
        String password = args[3];
        String queue = args[4];
        Path file = Paths.get(args[5]);
        try {
            if ("send".equals(args[0])) {
                send(url, user, password, queue, file);
            } else if ("receive".equals(args[0])) {
                receive(url, user, password, queue, file);
            } else {
                drain(url, user, password, queue, file);
            }
            System.exit(0);
        } catch (Exception e) {
            log("fatal: " + e);
            e.printStackTrace(System.err);
            System.exit(1);
        }
    }

    private static void log(String text) {
        System.err.println(Instant.now() + " " + text);
        System.err.flush();
    }

    private static ActiveMQConnectionFactory factory(String url, String user, String password) {
        ActiveMQConnectionFactory cf = new ActiveMQConnectionFactory(user, password, url);
        // Synchronous sends: send() returns only after the broker acknowledged the message.
        cf.setUseAsyncSend(false);
        cf.setAlwaysSyncSend(true);
        return cf;
    }

    private static void closeQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (JMSException | RuntimeException e) {
            log("close failed (ignored): " + e);
        }
    }

    private static long lastSeqIn(Path stateFile) throws IOException {
        long last = 0L;
        if (!Files.exists(stateFile)) {
            return last;
        }
        try (BufferedReader reader = Files.newBufferedReader(stateFile, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                String[] parts = line.trim().split("\\s+");
                if (parts.length >= 1 && !parts[0].isEmpty()) {
                    try {
                        last = Math.max(last, Long.parseLong(parts[0]));
                    } catch (NumberFormatException e) {
                        // a torn last line: ignore it
                    }
                }
            }
        }
        return last;
    }

    private static void send(String url, String user, String password, String queueName, Path stateFile)
            throws IOException, InterruptedException {
        Path stopFile = Paths.get(stateFile.toString() + ".stop");
        ActiveMQConnectionFactory cf = factory(url, user, password);
        long seq = lastSeqIn(stateFile) + 1;
        long acknowledged = 0L;
        long failures = 0L;
        Connection connection = null;
        Session session = null;
        MessageProducer producer = null;
        try (Writer out = new OutputStreamWriter(new FileOutputStream(stateFile.toFile(), true),
                StandardCharsets.UTF_8)) {
            while (!Files.exists(stopFile)) {
                try {
                    if (producer == null) {
                        connection = cf.createConnection();
                        connection.setExceptionListener(e -> log("connection exception: " + e));
                        connection.start();
                        session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                        Queue queue = session.createQueue(queueName);
                        producer = session.createProducer(queue);
                        producer.setDeliveryMode(DeliveryMode.PERSISTENT);
                    }
                    TextMessage message = session.createTextMessage(body(seq));
                    message.setLongProperty("seq", seq);
                    producer.send(message, DeliveryMode.PERSISTENT, Message.DEFAULT_PRIORITY,
                            Message.DEFAULT_TIME_TO_LIVE);
                    long at = System.currentTimeMillis();
                    out.write(seq + " " + at + "\n");
                    out.flush();
                    acknowledged++;
                    seq++;
                } catch (JMSException | RuntimeException e) {
                    failures++;
                    log("send of seq " + seq + " failed, retrying the same seq: " + e);
                    closeQuietly(connection);
                    connection = null;
                    session = null;
                    producer = null;
                    Thread.sleep(RETRY_PAUSE_MS);
                }
            }
        } finally {
            closeQuietly(connection);
        }
        System.out.println("send: acknowledged=" + acknowledged + " lastSeq=" + (seq - 1)
                + " failedAttempts=" + failures);
    }

    private static int bodyBytes(String value) {
        if (value == null || value.isEmpty()) {
            return 0;
        }
        int n = Integer.parseInt(value);
        if (n < 0 || n > 1048576) {
            throw new IllegalArgumentException("PROBE_BODY_BYTES must be 0 to 1048576, got " + value);
        }
        return n;
    }

    private static String body(long seq) {
        StringBuilder text = new StringBuilder(Long.toString(seq));
        while (text.length() < BODY_BYTES) {
            text.append(' ');
        }
        return text.toString();
    }

    private static Long seqOf(Message message) throws JMSException {
        if (message.propertyExists("seq")) {
            Object value = message.getObjectProperty("seq");
            if (value instanceof Number) {
                return ((Number) value).longValue();
            }
            if (value != null) {
                try {
                    return Long.parseLong(value.toString().trim());
                } catch (NumberFormatException e) {
                    // fall through to the body
                }
            }
        }
        if (message instanceof TextMessage) {
            String body = ((TextMessage) message).getText();
            if (body != null) {
                try {
                    return Long.parseLong(body.trim());
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static long drainOne(Session session, String queueName, Writer out) throws JMSException, IOException {
        long count = 0L;
        MessageConsumer consumer = session.createConsumer(session.createQueue(queueName));
        try {
            Message message;
            while ((message = consumer.receive(DRAIN_IDLE_MS)) != null) {
                Long seq = seqOf(message);
                if (seq == null) {
                    log("skipping a message without a seq on " + queueName + ": " + message.getJMSMessageID());
                    continue;
                }
                out.write(seq + "\n");
                out.flush();
                count++;
            }
        } finally {
            consumer.close();
        }
        return count;
    }

    private static void receive(String url, String user, String password, String queueName, Path outFile)
            throws IOException, InterruptedException {
        Path stopFile = Paths.get(outFile.toString() + ".stop");
        ActiveMQConnectionFactory cf = factory(url, user, password);
        long received = 0L;
        long failures = 0L;
        Connection connection = null;
        MessageConsumer consumer = null;
        try (Writer out = new OutputStreamWriter(new FileOutputStream(outFile.toFile(), true),
                StandardCharsets.UTF_8)) {
            while (!Files.exists(stopFile)) {
                try {
                    if (consumer == null) {
                        connection = cf.createConnection();
                        connection.setExceptionListener(e -> log("connection exception: " + e));
                        connection.start();
                        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                        consumer = session.createConsumer(session.createQueue(queueName));
                    }
                    Message message = consumer.receive(500L);
                    if (message == null) {
                        continue;
                    }
                    Long seq = seqOf(message);
                    if (seq == null) {
                        log("skipping a message without a seq: " + message.getJMSMessageID());
                        continue;
                    }
                    out.write(seq + " " + System.currentTimeMillis() + "\n");
                    out.flush();
                    received++;
                } catch (JMSException | RuntimeException e) {
                    failures++;
                    log("receive failed, reopening the consumer: " + e);
                    closeQuietly(connection);
                    connection = null;
                    consumer = null;
                    Thread.sleep(RETRY_PAUSE_MS);
                }
            }
        } finally {
            closeQuietly(connection);
        }
        System.out.println("receive: received=" + received + " failedAttempts=" + failures);
    }

    private static void drain(String url, String user, String password, String queueName, Path outFile)
            throws JMSException, IOException {
        ActiveMQConnectionFactory cf = factory(url, user, password);
        Connection connection = cf.createConnection();
        try (Writer out = new OutputStreamWriter(new FileOutputStream(outFile.toFile(), false),
                StandardCharsets.UTF_8)) {
            connection.setExceptionListener(e -> log("connection exception: " + e));
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            long fromQueue = drainOne(session, queueName, out);
            long fromDlq = drainOne(session, DLQ, out);
            System.out.println("drain: received=" + (fromQueue + fromDlq) + " queue=" + fromQueue + " dlq=" + fromDlq);
        } finally {
            closeQuietly(connection);
        }
    }
}
