package dev.singleflight.examples.demo;

import io.vertx.core.json.JsonObject;
import org.h2.jdbcx.JdbcConnectionPool;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * UserDao reads users from an H2 database in memory, through a pool of JDBC connections, and counts
 * the queries it runs, one user or many per query. Each lookup takes at least {@link #QUERY_TIME}: it
 * keeps its connection that long, as a slow query would; {@link #slowDown} makes a share of the
 * single-user lookups slower still, as a slow replica or a lock would. All methods block: call them
 * from a worker thread, never from an event
 * loop. Thread-safe.
 */
public final class UserDao implements AutoCloseable {

  /** Users seeded, with ids 1 to {@value}. */
  public static final int USERS = 1000;
  /** The least time a lookup takes: 50 ms. */
  public static final Duration QUERY_TIME = Duration.ofMillis(50);
  /** Connections in the pool: as many as Vert.x's default worker threads. */
  public static final int CONNECTIONS = 20;

  private static final AtomicLong DATABASES = new AtomicLong();

  /**
   * A user row.
   *
   * @param id the key
   * @param name the display name
   * @param email the e-mail address
   */
  public record User(int id, String name, String email) {

    /** @return the user as a JSON object with the fields {@code id}, {@code name}, {@code email} */
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("name", name).put("email", email);
    }
  }

  private final JdbcConnectionPool pool;
  private final AtomicInteger queries = new AtomicInteger();
  /** Picks the slow lookups: seeded, so that two runs meet the same sequence of slow lookups. */
  private final Random slowLookups = new Random(42);
  private volatile int slowPercent;
  private volatile Duration slowTime = QUERY_TIME;

  private UserDao(JdbcConnectionPool pool) {
    this.pool = pool;
  }

  /**
   * Creates a fresh database in memory, private to this DAO, and seeds it with {@value #USERS} users.
   *
   * @return the DAO
   * @throws SQLException when H2 fails
   */
  public static UserDao open() throws SQLException {
    String url = "jdbc:h2:mem:stampede-" + DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
    JdbcConnectionPool pool = JdbcConnectionPool.create(url, "sa", "");
    pool.setMaxConnections(CONNECTIONS);
    try (Connection c = pool.getConnection()) {
      try (Statement create = c.createStatement()) {
        create.execute("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL)");
      }
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO users (id, name, email) VALUES (?, ?, ?)")) {
        for (int id = 1; id <= USERS; id++) {
          insert.setInt(1, id);
          insert.setString(2, "User " + id);
          insert.setString(3, "user" + id + "@example.com");
          insert.addBatch();
        }
        insert.executeBatch();
      }
    }
    return new UserDao(pool);
  }

  /**
   * Looks a user up by id, and counts the query. Takes at least {@link #QUERY_TIME}, or the slow time
   * of {@link #slowDown} for a slow lookup.
   *
   * @param id the user's id
   * @return the user, or empty when there is no such id
   * @throws SQLException when H2 fails
   * @throws InterruptedException when the thread is interrupted while the query is slow
   */
  public Optional<User> find(int id) throws SQLException, InterruptedException {
    queries.incrementAndGet();
    try (Connection c = pool.getConnection();
         PreparedStatement select = c.prepareStatement("SELECT id, name, email FROM users WHERE id = ?")) {
      select.setInt(1, id);
      Optional<User> user;
      try (ResultSet row = select.executeQuery()) {
        user = row.next() ? Optional.of(new User(row.getInt(1), row.getString(2), row.getString(3))) : Optional.empty();
      }
      boolean slow = slowPercent > 0 && slowLookups.nextInt(100) < slowPercent;
      Thread.sleep((slow ? slowTime : QUERY_TIME).toMillis());
      return user;
    }
  }

  /**
   * Looks many users up in one query, {@code SELECT ... WHERE id IN (...)}, and counts it as one
   * query. Takes at least {@link #QUERY_TIME}, as {@link #find} does.
   *
   * @param ids the users' ids, at least one
   * @return the users found, by id; an id without a user is absent
   * @throws SQLException when H2 fails
   * @throws InterruptedException when the thread is interrupted while the query is slow
   */
  public Map<Integer, User> findAll(Collection<Integer> ids) throws SQLException, InterruptedException {
    queries.incrementAndGet();
    String marks = String.join(", ", Collections.nCopies(ids.size(), "?"));
    try (Connection c = pool.getConnection();
         PreparedStatement select = c.prepareStatement("SELECT id, name, email FROM users WHERE id IN (" + marks + ")")) {
      int index = 1;
      for (int id : ids) {
        select.setInt(index++, id);
      }
      Map<Integer, User> users = new HashMap<>();
      try (ResultSet row = select.executeQuery()) {
        while (row.next()) {
          users.put(row.getInt(1), new User(row.getInt(1), row.getString(2), row.getString(3)));
        }
      }
      Thread.sleep(QUERY_TIME.toMillis());
      return users;
    }
  }

  /**
   * Makes {@code percent} % of the lookups from now on take {@code time} instead of {@link #QUERY_TIME},
   * picked at random (the same sequence in every run).
   *
   * @param percent the share of slow lookups, 0 to 100
   * @param time how long a slow lookup takes
   */
  public void slowDown(int percent, Duration time) {
    slowTime = time;
    slowPercent = percent;
  }

  /** @return the number of lookups run since the DAO was opened */
  public int queries() {
    return queries.get();
  }

  /** Drops the database and closes the pool's connections. */
  @Override
  public void close() throws SQLException {
    try (Connection c = pool.getConnection(); Statement shutdown = c.createStatement()) {
      shutdown.execute("SHUTDOWN");
    } finally {
      pool.dispose();
    }
  }
}
