using System.Globalization;

namespace CausalEval.Core.Running;

/// <summary>
/// One process at a time plays a run folder: <c>run.lock</c> is held open exclusively (an OS file lock, released
/// when the process ends, even by <c>kill -9</c>) for as long as the run is played, and <c>run.pid</c> says by whom.
/// A second <c>run --resume</c> of the same folder is bad input: "in use by process N".
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    public const string LockFileName = "run.lock";
    public const string OwnerFileName = "run.pid";

    private readonly FileStream _lock;
    private readonly string _owner;

    private RunFolderLock(FileStream @lock, string owner)
    {
        _lock = @lock;
        _owner = owner;
    }

    /// <param name="origin">What names the folder in a message (<c>--resume</c>, <c>--out</c>).</param>
    public static RunFolderLock Acquire(string directory, string origin)
    {
        var path = Path.Combine(directory, LockFileName);
        var owner = Path.Combine(directory, OwnerFileName);
        FileStream stream;
        try
        {
            // Never deleted: removing a lock file another process is opening would let two processes hold "the" lock.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            var pid = File.Exists(owner) ? File.ReadAllText(owner).Trim() : "";
            var who = int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? $"process {id}" : "another process";
            throw new InputException(origin, directory, $"the run folder is in use by {who} (another causaleval run is playing it); wait for it to end or stop it first");
        }
        File.WriteAllText(owner, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return new RunFolderLock(stream, owner);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_owner);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only informative; a stale one names a process that no longer holds the lock.
        }
        _lock.Dispose();
    }
}
