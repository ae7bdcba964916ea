import Foundation
import MIMSIngest
import MIMSShards
import MIMSTestSupport
import Testing
@testable import MIMSTrain

/// python/mims_torch (issue 15) against mims-train: a checkpoint trained here is scored by
/// `python -m mims_torch.predict` with the probabilities of `mims-train predict`, and the Python
/// pipeline reader and model agree with the Swift ones on names, shapes and errors.
///
/// These tests need torch, safetensors, PyYAML and h5py. Without them they fail (never skip):
/// a green suite then always means the two engines were compared.
struct TorchInteropTests {
    /// mims_torch.data under DataLoader workers (issue 15, test 5): ShardDataset through 4
    /// persistent workers per DistributedSampler rank, two epochs, and the training bags of 6
    /// iterations split over 2 ranks, give exactly the frames h5py reads itself (its own record
    /// table walk and central window), every record once per epoch; and no worker reads through
    /// the h5py handle the parent had opened before the workers were forked.
    @Test func datasetUnderWorkersReadsTheFramesH5pyReads() throws {
        try MimsTorch.requireTorch()
        let dir = try TemporaryDirectory()
        let shards = try TrainingFixtures.shards(dir)
        let script = """
        import glob, json, os, sys
        import h5py, numpy as np, torch
        from mims_torch import data, pipeline, schedule
        shards, p = sys.argv[1], pipeline.parse(sys.argv[2], "p.yaml")

        def direct(split):
            out = []
            for path in sorted(glob.glob(os.path.join(shards, split + "-*.h5"))):
                with h5py.File(path, "r") as f:
                    for start, n, label in zip(f["record_frame_start"][()], f["record_frame_count"][()], f["label"][()]):
                        count = min(p.central_slices, int(n))
                        first = int(start) + (int(n) - count) // 2
                        out.append({"central": f["frames"][first:first + count], "label": int(label), "path": path, "start": int(start)})
            return out

        def read_frames(record, slices):
            with h5py.File(record["path"], "r") as f:
                return np.stack([f["frames"][record["start"] + k] for k in slices])

        class Probe(data.ShardDataset):
            def __getitem__(self, index):
                frames, label, index = super().__getitem__(index)
                return frames, label, index, os.getpid(), id(self._file(self.records[index].shard))

        report = {"records": {}, "checked": 0, "mismatches": [], "inherited": 0, "pids": set()}
        for split in ("train", "test"):
            expected = direct(split)
            probe = Probe(shards, split, p, raw=True)
            report["records"][split] = len(probe)
            parent = probe[0][4]  # a handle this process opens before the workers fork
            for rank in range(2):
                sampler = torch.utils.data.DistributedSampler(probe, num_replicas=2, rank=rank, shuffle=False)
                loader = torch.utils.data.DataLoader(probe, batch_size=2, sampler=sampler, num_workers=4, persistent_workers=True,
                                                     collate_fn=lambda items: items)
                for epoch in range(2):
                    seen = []
                    for batch in loader:
                        for frames, label, index, pid, handle in batch:
                            seen.append(index)
                            report["checked"] += 1
                            report["pids"].add(pid)
                            report["inherited"] += int(pid == os.getpid() or handle == parent)
                            if not (np.array_equal(frames.numpy(), expected[index]["central"]) and label == expected[index]["label"]):
                                report["mismatches"].append(f"{split} record {index} rank {rank} epoch {epoch}")
                    if sorted(set(seen)) != sorted(set(sampler)):
                        report["mismatches"].append(f"{split} rank {rank} epoch {epoch}: records {sorted(set(seen))}")
            probe.close()
        train = data.ShardDataset(shards, "train", p, raw=True)
        expected = direct("train")
        plan = schedule.TrainingSchedule([r.label for r in train.records], [r.frame_count for r in train.records], 3, p.slices,
                                         p.central_slices, True, 2)
        for rank in range(2):
            bags = data.TrainingBags(train, plan, 6, rank, 2)
            loader = torch.utils.data.DataLoader(bags, batch_size=None, sampler=range(6), num_workers=4, collate_fn=lambda item: item)
            for iteration, item in zip(range(6), loader):
                mine = [plan.choices(iteration)[b] for b in schedule.TrainingSchedule.share(3, rank, 2)]
                read = np.concatenate([read_frames(expected[r], slices) for r, slices in mine])
                report["checked"] += 1
                if item["records"] != [r for r, _ in mine] or item["bags"] != 3 or not np.array_equal(item["input"].numpy(), read):
                    report["mismatches"].append(f"training bags of iteration {iteration}, rank {rank}")
        report["pids"] = len(report["pids"])
        print(json.dumps(report))
        """
        let result = try MimsTorch.python(["-c", script, shards, TrainingFixtures.pipelineText])
        try #require(result.status == 0, "\(result.error)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.output)")
        let counts = try ["train", "test"].map { try ShardDataset(folder: shards, split: $0).records.count }
        #expect((report["records"] as? [String: Int]) == ["train": counts[0], "test": counts[1]])
        // Every record once per rank's share per epoch (DistributedSampler pads odd counts), plus 2 x 6 bag sets.
        let shares = counts.map { 2 * 2 * (($0 + 1) / 2) }.reduce(0, +)
        #expect(report["checked"] as? Int == shares + 12)
        #expect((report["mismatches"] as? [String]) == [], "\(report["mismatches"] ?? "")")
        #expect(report["inherited"] as? Int == 0, "a worker read through the parent's h5py handle")
        #expect((report["pids"] as? Int ?? 0) >= 2)
    }

    /// For every shipped pipeline, the torch model's state_dict has exactly the names and shapes
    /// of Network.parameterShapes (the checkpoint's tensors), so a checkpoint of any variant loads.
    @Test func torchModelsHaveTheCheckpointNamesOfEveryShippedPipeline() throws {
        try MimsTorch.requireTorch()
        let folder = repositoryRoot + "/pipelines"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        let script = """
        import json, sys
        from mims_torch import model, pipeline
        out = {}
        for path in sys.argv[1:]:
            net = model.build(pipeline.load(path))
            out[path] = {name: list(t.shape) for name, t in net.state_dict().items()}
        print(json.dumps(out))
        """
        let paths = files.map { folder + "/" + $0 }
        let result = try MimsTorch.python(["-c", script] + paths)
        try #require(result.status == 0, "\(result.error)")
        let decoded = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: [String: [Int]]]
        let torch = try #require(decoded)
        for path in paths {
            let swift = Network(try Pipeline.load(path: path)).parameterShapes()
            let mine = try #require(torch[path], "\(path): no torch model")
            #expect(mine.keys.sorted() == swift.keys.sorted(),
                    "\(path): only in torch \(Set(mine.keys).subtracting(swift.keys).sorted()), only in Swift \(Set(swift.keys).subtracting(mine.keys).sorted())")
            for (name, shape) in swift where mine[name] != nil {
                #expect(mine[name] == shape, "\(path) \(name): torch \(mine[name]!), Swift \(shape)")
            }
        }
    }

    /// Pipelines the Swift reader refuses are refused by mims_torch with the same message (file,
    /// line, key, expectation); the good ones read to the same values.
    @Test func pipelineReaderAgreesWithSwift() throws {
        try MimsTorch.requireTorch()
        let base = "name: x\nmodel: mims\nbackbone: {depth: 18, feature_layer: layer2}\ninput_size: [64, 64]\n"
        let bad = [
            base + "msconv: {kernels: [[2, 8]]}\noptimizer: {learnig_rate: 0.1}\n",
            base + "msconv: {kernels: [[2, 8]]}\nfoo: 1\n",
            base,
            base.replacingOccurrences(of: "model: mims", with: "model: mi-pre") + "msconv: {kernels: [[2, 8]]}\n",
            base.replacingOccurrences(of: "model: mims", with: "model: mims-noresizing") + "msconv: {kernels: [[2, 8]], scales: [1.0]}\n",
            base + "msconv: {kernels: [[2, 8]]}\npooling: {aggregation: mean, k: 3}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {slices: [5, 3]}\n",
            base + "msconv: {kernels: [[9, 8]]}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {eval_split: dev}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {eval_split: test, select: best-val}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {select: newest}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {patience: 2}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {select: best-val, patience: 0}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {select: best-val, patience: soon}\n",
            base + "msconv: {kernels: [[2, 8]]}\ntraining: {patiense: 2}\n",
            base + "msconv: {kernels: [[2, 8]]}\nprecision: fp16\n",
            base.replacingOccurrences(of: "depth: 18", with: "depth: 19"),
            base.replacingOccurrences(of: "[64, 64]", with: "[64]"),
        ]
        let good = base + "msconv: {kernels: [[2, 8], [3, 10]], scales: [0.5, 1]}\npooling: {k: 3}\noptimizer: {learning_rate: 1e-3}\n"
            + "training: {iterations: 12, class_balanced: yes, central_slices: 20, select: best-val, patience: 3}\n"
        let script = """
        import json, sys
        from mims_torch import pipeline
        texts = json.loads(sys.argv[1])
        out = []
        for text in texts:
            try:
                p = pipeline.parse(text, "p.yaml")
                out.append({"ok": [p.model, p.kernels, p.scales, p.k, p.learning_rate, p.backbone_learning_rate,
                                   p.iterations, p.eval_every, p.class_balanced, p.central_slices, p.volume_keys, p.select, p.patience]})
            except pipeline.PipelineError as error:
                out.append({"error": str(error)})
        print(json.dumps(out))
        """
        let texts = String(decoding: try JSONSerialization.data(withJSONObject: bad + [good]), as: UTF8.self)
        let result = try MimsTorch.python(["-c", script, texts])
        try #require(result.status == 0, "\(result.error)")
        let answers = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        try #require(answers.count == bad.count + 1)
        for (text, answer) in zip(bad, answers) {
            do {
                _ = try Pipeline.parse(text, file: "p.yaml")
                Issue.record("Swift accepted \(text)")
            } catch {
                #expect(answer["error"] as? String == "\(error)", "\(text)\nSwift: \(error)\ntorch: \(answer)")
            }
        }
        let swift = try Pipeline.parse(good, file: "p.yaml")
        let values = try #require(answers.last?["ok"] as? [Any], "\(answers.last ?? [:])")
        #expect(values[0] as? String == swift.variant.rawValue)
        #expect(values[1] as? [[Int]] == swift.kernels && values[2] as? [Double] == swift.scales)
        #expect(values[3] as? Int == 3 && swift.aggregation == .topK(3))
        #expect((values[4] as? Double).map(Float.init) == swift.learningRate && (values[5] as? Double).map(Float.init) == swift.backboneLearningRate)
        #expect(values[6] as? Int == swift.iterations && values[7] as? Int == swift.evalEvery)
        #expect(values[8] as? Bool == swift.classBalanced && values[9] as? Int == swift.centralSlices)
        #expect(values[10] as? [String] == swift.volumeKeys)
        #expect(values[11] as? String == "best-val" && swift.selectsBestValidation)
        #expect(values[12] as? Int == 3 && swift.patience == 3)
    }
}
