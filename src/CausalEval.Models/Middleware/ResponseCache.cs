using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using CausalEval.Core.Agents;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace CausalEval.Models.Middleware;

/// <summary>One cached answer: its text and how it ended, and the tokens it was billed when it was first made.</summary>
internal sealed record CachedAnswer(string Text, string? FinishReason, string? ResponseModel, long InputTokens, long OutputTokens);

/// <summary>What <c>causaleval cache stats</c> shows for one model id.</summary>
internal sealed record CacheModelStats(string Model, long Answers, long InputTokens, long OutputTokens, string? Oldest, string? Newest);

/// <summary>
/// The response cache's SQLite file (Microsoft.Data.Sqlite, WAL journal): one row per answer, keyed by the SHA-256 of the
/// call (<see cref="ResponseCacheClient.Key"/>). It holds the answer text, finish reason, billed tokens, the model id and
/// a timestamp — never a request, a header or a key. Safe for many concurrent trials and for several processes at once:
/// every write is one INSERT, its own short transaction, and a locked file is waited for (busy timeout 60 s). The cache is
/// best-effort: a read or write that fails is reported once through <c>warn</c> and the call goes on uncached.
/// </summary>
internal sealed class ResponseCacheStore : IDisposable
{
    public const string FileName = "responses.sqlite3";
    private const int SchemaVersion = 1;

    private readonly string _connectionString;
    private readonly Action<string>? _warn;
    private int _warned;

    public ResponseCacheStore(string directory, Action<string>? warn = null)
    {
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        FilePath = Path.Combine(Directory, FileName);
        _warn = warn;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 60,
        }.ToString();
        using var connection = Open();
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }
        using var transaction = connection.BeginTransaction();
        using var create = connection.CreateCommand();
        create.Transaction = transaction;
        create.CommandText = $"""
            CREATE TABLE IF NOT EXISTS answers (
                key BLOB PRIMARY KEY,
                model TEXT NOT NULL,
                answer TEXT NOT NULL,
                finish_reason TEXT,
                response_model TEXT,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                created_at TEXT NOT NULL
            ) WITHOUT ROWID;
            PRAGMA user_version = {SchemaVersion};
            """;
        create.ExecuteNonQuery();
        transaction.Commit();
    }

    public string Directory { get; }

    public string FilePath { get; }

    /// <summary><c>$XDG_CACHE_HOME/causaleval</c>, else <c>~/.cache/causaleval</c>.</summary>
    public static string DefaultDirectory(Func<string, string?> environment)
    {
        var xdg = environment("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(environment("HOME") is { Length: > 0 } home ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "causaleval");
    }

    // The SQLite connections (pooled, so reused by many SqliteConnection objects) whose settings are made: once each,
    // not at every open (two statements more per cache read and write).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Configured = new();

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        if (connection.Handle is not { } handle || !Configured.TryGetValue(handle, out _))
        {
            using var pragmas = connection.CreateCommand();
            // WAL with synchronous=NORMAL: a commit is durable against a process crash (not an OS crash), and cheap.
            pragmas.CommandText = "PRAGMA busy_timeout=60000; PRAGMA synchronous=NORMAL;";
            pragmas.ExecuteNonQuery();
            if (connection.Handle is { } made)
            {
                Configured.AddOrUpdate(made, made);
            }
        }
        return connection;
    }

    public CachedAnswer? Get(byte[] key)
    {
        var shared = TryTakeShared();
        Statements? statements = null;
        try
        {
            statements = shared ? _shared ??= new Statements(Open()) : Rent();
            statements.Key.Value = key;
            CachedAnswer? answer;
            using (var reader = statements.Select.ExecuteReader())
            {
                answer = reader.Read()
                    ? new CachedAnswer(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.GetInt64(3), reader.GetInt64(4))
                    : null;
            }
            Return(statements, shared);
            return answer;
        }
        catch (SqliteException ex)
        {
            Drop(statements, shared);
            Warn($"response cache {FilePath}: read failed ({ex.Message}); calling the model");
            return null;
        }
    }

    /// <summary>Stores an answer; committed when this returns (one autocommit INSERT, on the store's own connection).</summary>
    public void Put(byte[] key, string model, CachedAnswer answer, DateTimeOffset now)
    {
        _gate.Wait();
        Write(key, model, answer, now);
    }

    /// <summary><see cref="Put"/>, waiting for the store's own connection without holding a thread.</summary>
    public async ValueTask PutAsync(byte[] key, string model, CachedAnswer answer, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        Write(key, model, answer, now);
    }

    // Runs holding the gate, and lets go of it.
    private void Write(byte[] key, string model, CachedAnswer answer, DateTimeOffset now)
    {
        var shared = !_closed;
        if (!shared)
        {
            ReleaseShared(); // disposed: a connection of its own
        }
        Statements? statements = null;
        try
        {
            statements = shared ? _shared ??= new Statements(Open()) : Rent();
            var insert = statements.Insert.Parameters;
            insert[0].Value = key;
            insert[1].Value = model;
            insert[2].Value = answer.Text;
            insert[3].Value = (object?)answer.FinishReason ?? DBNull.Value;
            insert[4].Value = (object?)answer.ResponseModel ?? DBNull.Value;
            insert[5].Value = answer.InputTokens;
            insert[6].Value = answer.OutputTokens;
            insert[7].Value = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            // One statement in autocommit mode is its own transaction, and takes the write lock before it reads anything
            // (so it waits on busy_timeout like BEGIN IMMEDIATE would, and cannot meet a stale snapshot). It is committed
            // before the call returns: an answer is in the file before the trial uses it.
            statements.Insert.ExecuteNonQuery();
            Return(statements, shared);
        }
        catch (SqliteException ex)
        {
            Drop(statements, shared);
            Warn($"response cache {FilePath}: write failed ({ex.Message}); the answer is used but not cached");
        }
    }

    // Connections with their lookup and insert prepared once: a call then binds and steps two statements instead of
    // opening a pooled connection and preparing a SELECT, a BEGIN IMMEDIATE, an INSERT and a COMMIT (SQLite's parser was
    // most of the cache's CPU).
    //
    // One of them is the store's own, used by one call at a time (_gate): every write goes through it, and every lookup
    // that finds it free. In WAL mode a connection that meets a database another connection has written since drops its
    // whole page cache and reads the B-tree's pages again, so when writes came from a pool of connections every lookup
    // and insert re-read its pages; the store's own connection keeps its cache across its own writes. A lookup never
    // waits for it: one that finds it busy takes an idle connection of the pool below (lookups do not change the file,
    // so they cost the store's own connection nothing). A write waits for it without holding a thread, as writes wait for
    // each other in SQLite anyway (one writer at a time). Idle pooled connections are kept up to MaxIdle; the rest are
    // closed.
    private static readonly int MaxIdle = 2 * Environment.ProcessorCount + 2;
    private readonly System.Collections.Concurrent.ConcurrentBag<Statements> _idle = [];
    private int _idleCount;
    private volatile bool _closed;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Statements? _shared;

    /// <summary>Takes the store's own connection if it is free and the store is open; false: use the pool.</summary>
    private bool TryTakeShared()
    {
        if (_closed || !_gate.Wait(0))
        {
            return false;
        }
        if (_closed)
        {
            ReleaseShared();
            return false;
        }
        return true;
    }

    private void ReleaseShared()
    {
        // Release and Wait are full fences: either Dispose finds the connection free and closes it, or this sees its flag.
        _gate.Release();
        if (_closed)
        {
            CloseShared();
        }
    }

    private void CloseShared()
    {
        if (_gate.Wait(0))
        {
            _shared?.Dispose();
            _shared = null;
            _gate.Release();
        }
        // Else a call holds it (or waits for it), and closes it as it lets go.
    }

    private void Return(Statements statements, bool shared)
    {
        if (shared)
        {
            ReleaseShared();
        }
        else
        {
            Return(statements);
        }
    }

    /// <summary>After a failed statement: its connection is closed (the store's own is opened again by the next call).</summary>
    private void Drop(Statements? statements, bool shared)
    {
        statements?.Dispose();
        if (shared)
        {
            _shared = null;
            ReleaseShared();
        }
    }

    private Statements Rent()
    {
        if (_idle.TryTake(out var statements))
        {
            Interlocked.Decrement(ref _idleCount);
            return statements;
        }
        return new Statements(Open());
    }

    private void Return(Statements statements)
    {
        if (_closed || Interlocked.Increment(ref _idleCount) > MaxIdle)
        {
            if (!_closed)
            {
                Interlocked.Decrement(ref _idleCount);
            }
            statements.Dispose();
            return;
        }
        _idle.Add(statements);
        if (_closed)
        {
            CloseIdle(); // a Dispose ran meanwhile
        }
    }

    /// <summary>Closes the store's connections (back to Microsoft.Data.Sqlite's pool); later reads and writes open their own.</summary>
    public void Dispose()
    {
        _closed = true;
        CloseShared();
        CloseIdle();
    }

    private void CloseIdle()
    {
        while (_idle.TryTake(out var statements))
        {
            statements.Dispose();
        }
    }

    private sealed class Statements : IDisposable
    {
        public Statements(SqliteConnection connection)
        {
            Connection = connection;
            try
            {
                Select = connection.CreateCommand();
                Select.CommandText = "SELECT answer, finish_reason, response_model, input_tokens, output_tokens FROM answers WHERE key = $key";
                Key = Select.Parameters.Add("$key", SqliteType.Blob);
                Select.Prepare();
                Insert = connection.CreateCommand();
                Insert.CommandText = """
                    INSERT INTO answers (key, model, answer, finish_reason, response_model, input_tokens, output_tokens, created_at)
                    VALUES ($key, $model, $answer, $finish, $responseModel, $in, $out, $at)
                    ON CONFLICT(key) DO NOTHING
                    """;
                Insert.Parameters.Add("$key", SqliteType.Blob);
                Insert.Parameters.Add("$model", SqliteType.Text);
                Insert.Parameters.Add("$answer", SqliteType.Text);
                Insert.Parameters.Add("$finish", SqliteType.Text);
                Insert.Parameters.Add("$responseModel", SqliteType.Text);
                Insert.Parameters.Add("$in", SqliteType.Integer);
                Insert.Parameters.Add("$out", SqliteType.Integer);
                Insert.Parameters.Add("$at", SqliteType.Text);
                Insert.Prepare();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public SqliteConnection Connection { get; }

        public SqliteCommand Select { get; } = null!;

        public SqliteParameter Key { get; } = null!;

        public SqliteCommand Insert { get; } = null!;

        public void Dispose()
        {
            Select?.Dispose();
            Insert?.Dispose();
            Connection.Dispose();
        }
    }

    public IReadOnlyList<CacheModelStats> Stats()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT model, COUNT(*), SUM(input_tokens), SUM(output_tokens), MIN(created_at), MAX(created_at)
            FROM answers GROUP BY model ORDER BY model
            """;
        using var reader = command.ExecuteReader();
        var result = new List<CacheModelStats>();
        while (reader.Read())
        {
            result.Add(new CacheModelStats(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
        return result;
    }

    /// <summary>Bytes on disk: the database and its WAL.</summary>
    public long SizeBytes() =>
        new[] { FilePath, FilePath + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);

    /// <summary>Removes every answer (or those of one model id, exactly as listed by stats); returns how many.</summary>
    public long Clear(string? model = null)
    {
        long removed;
        using (var connection = Open())
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = model is null ? "DELETE FROM answers" : "DELETE FROM answers WHERE model = $model";
            if (model is not null)
            {
                command.Parameters.AddWithValue("$model", model);
            }
            removed = command.ExecuteNonQuery();
            transaction.Commit();
        }
        using (var connection = Open())
        {
            using var compact = connection.CreateCommand();
            compact.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;";
            try
            {
                compact.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // Another process is using the cache: the space is reused later instead of returned now.
            }
        }
        return removed;
    }

    private void Warn(string message)
    {
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            _warn?.Invoke(message);
        }
    }
}

/// <summary>
/// Answers a call from the response cache when the same call was answered before, else calls the model and stores the
/// answer (failures are never stored: they propagate as exceptions). The key covers the provider, the endpoint, the model,
/// the settings sent (temperature, max tokens, seed…), every message, and the trial id, epoch and turn from the call's
/// <see cref="ChatCall"/> — so an identical rerun is answered from the cache, while another epoch, prompt or setting is not.
/// Calls without a <see cref="ChatCall"/> pass through uncached. A cached answer is marked
/// (<see cref="ChatCall.CachedKey"/>) and carries the usage it was first billed, which the trial counts apart, at no cost.
/// </summary>
internal sealed class ResponseCacheClient(IChatClient inner, Func<ResponseCacheStore?> cache, ChatEndpoint endpoint, TimeProvider time)
    : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (ChatCall.From(options?.AdditionalProperties) is not { } call || cache() is not { } store)
        {
            return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var key = Key(endpoint, options!, list, call);
        if (store.Get(key) is { } hit)
        {
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, hit.Text))
            {
                FinishReason = hit.FinishReason is { } reason ? new ChatFinishReason(reason) : null,
                ModelId = hit.ResponseModel,
                Usage = new UsageDetails { InputTokenCount = hit.InputTokens, OutputTokenCount = hit.OutputTokens, TotalTokenCount = hit.InputTokens + hit.OutputTokens },
                AdditionalProperties = new() { [ChatCall.CachedKey] = true },
            };
        }
        var response = await base.GetResponseAsync(list, options, cancellationToken).ConfigureAwait(false);
        // Not cancellable: the answer is paid for, so it is stored even if the caller gives up now.
        await store.PutAsync(key, endpoint.ModelId, new CachedAnswer(response.Text ?? "", response.FinishReason?.Value, response.ModelId,
            response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0), time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        return response;
    }

    /// <summary>SHA-256 of the call written as canonical JSON (fields in a fixed order; no key, header or secret in it).</summary>
    public static byte[] Key(ChatEndpoint endpoint, ChatOptions options, IReadOnlyList<ChatMessage> messages, ChatCall call)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", 1);
            writer.WriteString("provider", endpoint.Provider);
            writer.WriteString("endpoint", endpoint.Endpoint);
            writer.WriteString("model", endpoint.Model);
            writer.WriteString("model_id", endpoint.ModelId);
            writer.WriteStartObject("settings");
            Number(writer, "temperature", options.Temperature);
            Number(writer, "max_output_tokens", options.MaxOutputTokens);
            Number(writer, "seed", options.Seed);
            Number(writer, "top_p", options.TopP);
            Number(writer, "top_k", options.TopK);
            Number(writer, "frequency_penalty", options.FrequencyPenalty);
            Number(writer, "presence_penalty", options.PresencePenalty);
            writer.WriteString("model_override", options.ModelId);
            writer.WriteString("response_format", options.ResponseFormat?.GetType().Name);
            writer.WriteStartArray("stop");
            foreach (var stop in options.StopSequences ?? [])
            {
                writer.WriteStringValue(stop);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteString("trial_id", call.TrialId);
            writer.WriteNumber("epoch", call.Epoch);
            writer.WriteNumber("turn", call.Turn);
            writer.WriteStartArray("messages");
        }
        // The messages' part is the bytes one writer would write, hashed message by message from each one's own JSON.
        hash.AppendData(buffer.WrittenSpan);
        var written = call.Memo?.GetOrAdd(MemoKey, static () => new List<WrittenMessage>());
        lock ((object?)written ?? hash)
        {
            for (var i = 0; i < messages.Count; i++)
            {
                if (i > 0)
                {
                    hash.AppendData(","u8);
                }
                hash.AppendData(MessageJson(messages[i], written, i));
            }
        }
        hash.AppendData("]}"u8);
        return hash.GetHashAndReset();
    }

    // Each message's JSON ([role, text]), kept in the trial's memo by position: every turn re-sends the earlier messages
    // of its conversation, whose escaping and encoding are then done once per trial, not at every call (a message changed
    // since is written again). In the trial's memo rather than in a table by message: no process-wide lock at every
    // message and no weak handle per message for the garbage collector to trace.
    private const string MemoKey = "causaleval.cache-key-messages";

    private sealed record WrittenMessage(ChatMessage Message, string Role, string Text, byte[] Json);

    private const int MaxKeptBuffer = 256 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static byte[] MessageJson(ChatMessage message, List<WrittenMessage>? written, int index)
    {
        var (role, text) = (message.Role.Value, message.Text);
        if (written is not null && index < written.Count && written[index] is var known && ReferenceEquals(known.Message, message)
            && known.Role == role && (ReferenceEquals(known.Text, text) || known.Text == text))
        {
            return known.Json;
        }
        // A buffer per thread: Utf8JsonWriter asks for room for the worst-case escaping (six bytes a character), so a
        // fresh buffer per message grew to several times the message's size before its bytes were copied out.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        writer.WriteStartArray();
        writer.WriteStringValue(role);
        writer.WriteStringValue(text);
        writer.WriteEndArray();
        writer.Flush();
        var json = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > MaxKeptBuffer)
        {
            (t_buffer, t_writer) = (null, null);
        }
        if (written is not null)
        {
            var entry = new WrittenMessage(message, role, text, json);
            if (index < written.Count)
            {
                written[index] = entry;
            }
            else if (index == written.Count)
            {
                written.Add(entry);
            }
        }
        return json;
    }

    private static void Number(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void Number(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
