using System.Globalization;
using System.Text;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>
/// One batch's log files, held open while the batch runs: its ledger and its log lanes. A lane is
/// a file that one attempt's stdout (or stderr) appends to while it runs, then the next attempt's:
/// a batch needs two lanes per job running at once, not two files per job, so a job creates no file
/// of its own (on ext4 a new inode next to recently deleted ones was most of what a job cost). The
/// stretch each attempt wrote is recorded (start when it is reserved, end when the attempt ends).
/// </summary>
internal sealed class BatchFiles : IDisposable
{
    private readonly RunnerHome _home;
    private readonly long _batchId;
    private readonly List<SafeFileHandle> _lanes = [];
    private readonly Stack<int> _free = new();
    private readonly HashSet<int> _busy = [];
    private readonly SafeFileHandle _ledger;

    public BatchFiles(RunnerHome home, long batchId)
    {
        _home = home;
        _batchId = batchId;
        Directory.CreateDirectory(LocalLayout.BatchLogs(home, batchId));
        _ledger = AppendFile.Open(LocalLayout.Ledger(home, batchId));
        // Lanes an earlier executor made are reused (recovery marks the ones still written to).
        while (File.Exists(LocalLayout.Lane(home, batchId, _lanes.Count)))
            _lanes.Add(AppendFile.Open(LocalLayout.Lane(home, batchId, _lanes.Count)));
        for (var lane = _lanes.Count - 1; lane >= 0; lane--) _free.Push(lane);
    }

    /// <summary>A lane no attempt is writing, and where its next stretch starts.</summary>
    public LaneRange Take()
    {
        lock (_lanes)
        {
            int lane;
            if (_free.Count > 0) lane = _free.Pop();
            else
            {
                lane = _lanes.Count;
                _lanes.Add(AppendFile.Open(LocalLayout.Lane(_home, _batchId, lane)));
            }
            _busy.Add(lane);
            return new LaneRange(lane, RandomAccess.GetLength(_lanes[lane]), null);
        }
    }

    /// <summary>An attempt an earlier executor started writes this lane still: it is not handed out until Release.</summary>
    public void MarkBusy(int lane)
    {
        lock (_lanes)
        {
            while (_lanes.Count <= lane) { _lanes.Add(AppendFile.Open(LocalLayout.Lane(_home, _batchId, _lanes.Count))); _free.Push(_lanes.Count - 1); }
            if (!_busy.Add(lane)) return;
            var rest = _free.Where(l => l != lane).Reverse().ToList();
            _free.Clear();
            foreach (var l in rest) _free.Push(l);
        }
    }

    /// <summary>Ends an attempt's stretch of <paramref name="range"/>'s lane (now) and lets the next attempt have the lane.</summary>
    public LaneRange Release(LaneRange range)
    {
        lock (_lanes)
        {
            var end = RandomAccess.GetLength(_lanes[range.Lane]);
            if (_busy.Remove(range.Lane)) _free.Push(range.Lane);
            return range with { End = end };
        }
    }

    public SafeFileHandle Lane(int lane)
    {
        lock (_lanes) return _lanes[lane];
    }

    /// <summary>A line of the runner's own in an attempt's log (a driver's steps, why it could not start).</summary>
    public void WriteLine(LaneRange range, string text) =>
        AppendFile.Write(Lane(range.Lane), Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"[runner {DateTimeOffset.UtcNow:HH:mm:ss.fff}] {text}\n")));

    public void AppendLedger(string line) => AppendFile.Write(_ledger, Encoding.UTF8.GetBytes(line));

    public void Dispose()
    {
        lock (_lanes)
        {
            foreach (var lane in _lanes) lane.Dispose();
            _lanes.Clear();
        }
        _ledger.Dispose();
    }
}
