#!/usr/bin/env python3
"""Offline checks of k8s/: renders each kustomization (resources, namespace,
images, configMapGenerator, JSON-6902 patches — the subset k8s/ uses), checks
every file it references exists and k8s/sql/ equals sql/, validates every
rendered object strictly against the Kubernetes schemas (kubernetes-validate),
and checks the properties the deployment relies on. The engines' custom
resources (k8s/engines/: KubeRay's RayJob, the Spark operator's
SparkApplication) are checked field by field against their operators' APIs,
their pod templates strictly as Pods.

    python3 k8s/check.py                      # all kustomizations; exit 1 on failure
    python3 k8s/check.py --job-command DIR    # print the Job's container as JSON

Needs PyYAML and kubernetes-validate (tests/python/requirements.txt).
"""
import copy
import filecmp
import glob
import json
import os
import re
import sys

import kubernetes_validate
import yaml

K8S = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(K8S)
KUBERNETES_VERSION = "1.33"
KUSTOMIZATIONS = [
    "",
    "overlays/enwiki",
    "overlays/smallwiki",
    "overlays/megatron",
    "overlays/s3",
    "overlays/bucket",
    "overlays/wikimedia-http",
    "download",
    "engines/ray",
    "engines/spark",
]
# Custom resources of the engines' operators, which kubernetes-validate has
# no schema for: their fields are checked against the operators' documented
# API (KubeRay ray.io/v1, Kubeflow Spark operator v1beta2), and every pod
# template inside them strictly, as a Pod.
RAYJOB_SPEC = {
    "entrypoint", "shutdownAfterJobFinishes", "ttlSecondsAfterFinished", "activeDeadlineSeconds",
    "backoffLimit", "rayClusterSpec", "clusterSelector", "runtimeEnvYAML", "submissionMode",
    "submitterPodTemplate", "submitterConfig", "suspend", "entrypointNumCpus", "entrypointMemory",
    "entrypointResources", "jobId", "metadata", "managedBy", "deletionStrategy",
}
RAY_CLUSTER_SPEC = {"rayVersion", "headGroupSpec", "workerGroupSpecs", "enableInTreeAutoscaling",
                    "autoscalerOptions", "headServiceAnnotations", "suspend", "managedBy", "gcsFaultToleranceOptions"}
RAY_GROUP_SPEC = {"groupName", "replicas", "minReplicas", "maxReplicas", "rayStartParams", "template",
                  "serviceType", "headService", "enableIngress", "numOfHosts", "scaleStrategy", "suspend",
                  "idleTimeoutSeconds"}
SPARK_APP_SPEC = {
    "type", "mode", "image", "imagePullPolicy", "imagePullSecrets", "mainApplicationFile", "mainClass",
    "arguments", "sparkVersion", "sparkConf", "hadoopConf", "sparkConfigMap", "hadoopConfigMap", "restartPolicy",
    "driver", "executor", "deps", "volumes", "nodeSelector", "timeToLiveSeconds", "dynamicAllocation",
    "batchScheduler", "batchSchedulerOptions", "monitoring", "failureRetries", "retryInterval", "pythonVersion",
    "memoryOverheadFactor", "proxyUser", "sparkUIOptions", "driverIngressOptions",
}
SPARK_POD_SPEC = {
    "cores", "coreLimit", "coreRequest", "memory", "memoryOverhead", "instances", "serviceAccount", "labels",
    "annotations", "env", "envFrom", "volumeMounts", "nodeSelector", "tolerations", "affinity", "securityContext",
    "podSecurityContext", "image", "gpu", "javaOptions", "deleteOnTermination", "podName", "lifecycle",
    "sidecars", "initContainers", "hostNetwork", "dnsConfig", "terminationGracePeriodSeconds", "priorityClassName",
    "template", "kubernetesMaster", "secrets", "configMaps", "schedulerName", "shareProcessNamespace",
}


class Failure(Exception):
    pass


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def resolve_pointer(doc, pointer):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    parent = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    return parent, parts[-1]


def apply_json6902(doc, ops, where):
    for op in ops:
        parent, key = resolve_pointer(doc, op["path"])
        index = int(key) if isinstance(parent, list) and key != "-" else key
        if op["op"] == "test":
            if parent[index] != op["value"]:
                raise Failure(f"{where}: test failed at {op['path']}: {parent[index]!r} != {op['value']!r}")
        elif op["op"] == "replace":
            parent[index]  # must exist
            parent[index] = copy.deepcopy(op["value"])
        elif op["op"] == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if key == "-" else index, copy.deepcopy(op["value"]))
            else:
                parent[index] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            del parent[index]
        else:
            raise Failure(f"{where}: unsupported patch op {op['op']}")


def render(directory):
    """The objects `kubectl kustomize` would produce for this subset."""
    kfile = os.path.join(directory, "kustomization.yaml")
    if not os.path.isfile(kfile):
        raise Failure(f"{directory}: no kustomization.yaml")
    k = load_yaml_docs(kfile)[0]
    objects = []
    for res in k.get("resources", []):
        path = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(path):
            objects += render(path)
        elif os.path.isfile(path):
            objects += load_yaml_docs(path)
        else:
            raise Failure(f"{kfile}: resource {res} does not exist")
    for gen in k.get("configMapGenerator", []):
        data = {}
        for f in gen.get("files", []):
            path = os.path.join(directory, f)
            if not os.path.isfile(path):
                raise Failure(f"{kfile}: configMapGenerator file {f} does not exist")
            if os.path.relpath(os.path.realpath(path), os.path.realpath(directory)).startswith(".."):
                raise Failure(f"{kfile}: {f} is outside the kustomization root (kustomize refuses it)")
            data[os.path.basename(f)] = open(path, encoding="utf-8").read()
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data})
    for patch in k.get("patches", []):
        if "path" in patch:
            path = os.path.join(directory, patch["path"])
            if not os.path.isfile(path):
                raise Failure(f"{kfile}: patch {patch['path']} does not exist")
            ops = load_yaml_docs(path)[0]
        else:
            ops = yaml.safe_load(patch["patch"])
        if isinstance(ops, dict) and ops.get("$patch") == "delete":
            # A strategic-merge patch deleting one object (kind and name).
            doomed = [o for o in objects if o["kind"] == ops["kind"] and o["metadata"]["name"] == ops["metadata"]["name"]]
            if not doomed:
                raise Failure(f"{kfile}: delete patch {ops['kind']}/{ops['metadata']['name']} matches nothing")
            objects = [o for o in objects if not any(o is d for d in doomed)]
            continue
        target = patch.get("target", {})
        matched = [o for o in objects if all(o.get(f) == target[f] for f in ("kind",) if f in target)
                   and ("name" not in target or o["metadata"]["name"] == target["name"])]
        if not matched:
            raise Failure(f"{kfile}: patch target {target} matches nothing")
        for o in matched:
            apply_json6902(o, ops, kfile)
    for o in objects:
        if "namespace" in k and o["kind"] != "Namespace":
            o["metadata"]["namespace"] = k["namespace"]
        for image in k.get("images", []):
            for pod in pod_specs(o):
                for c in pod.get("containers", []) + pod.get("initContainers", []):
                    if c["image"] == image["name"]:
                        c["image"] = f"{image['newName']}:{image['newTag']}"
    return objects


def pod_specs(obj):
    if obj["kind"] == "Job":
        return [obj["spec"]["template"]["spec"]]
    return []


def check_job(job, where):
    spec = job["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    problems = []
    env = {e["name"]: e for e in container.get("env", [])}
    if job["metadata"]["name"] == "wikitok-tokenize":
        if spec.get("completionMode") != "Indexed":
            problems.append("the Job is not Indexed")
        if not 1 <= spec.get("parallelism", 0) <= spec.get("completions", 0):
            problems.append("parallelism must be between 1 and completions (pods in waves are fine)")
        if str(spec.get("completions")) != env.get("JOB_COMPLETION_COUNT", {}).get("value"):
            problems.append("JOB_COMPLETION_COUNT differs from completions")
        if "backoffLimitPerIndex" not in spec:
            problems.append("no backoffLimitPerIndex")
        rules = spec.get("podFailurePolicy", {}).get("rules", [])
        if not any(r.get("action") == "FailIndex" and 2 in r.get("onExitCodes", {}).get("values", []) for r in rules):
            problems.append("usage errors (exit 2) are retried")
        for code in (130, 143):
            if not any(r.get("action") == "Ignore" and code in r.get("onExitCodes", {}).get("values", []) for r in rules):
                problems.append(f"an interrupted run (exit {code}) counts as a failure")
        args = container["args"]
        spill = args[args.index("--spill-dir") + 1]
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        if spill not in mounts:
            problems.append(f"no volume is mounted at --spill-dir {spill}")
        else:
            volume = next(v for v in pod["volumes"] if v["name"] == mounts[spill])
            if not ("ephemeral" in volume or "emptyDir" in volume):
                problems.append(f"the spill volume {volume['name']} is neither a generic ephemeral volume nor an emptyDir")
        output = args[args.index("--output") + 1]
        for name, variable in env.items():
            output = output.replace(f"$({name})", variable.get("value") or "")
        if "://" in output:
            # Output to a bucket: the pods share work through it, and keep
            # nothing on a volume but their own spill.
            shared = [v["name"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
            if shared:
                problems.append(f"output goes to {output}, yet volumes {shared} are shared claims")
            if not output.split("://")[0] in ("s3", "gs", "az", "abfs", "abfss"):
                problems.append(f"--output {output}: not a bucket wikitok writes to")
        memory_env = env.get("CONTAINER_MEMORY_LIMIT_MIB", {}).get("valueFrom", {}).get("resourceFieldRef", {})
        if memory_env.get("resource") != "limits.memory":
            problems.append("the memory limit does not reach wikitok (CONTAINER_MEMORY_LIMIT_MIB from limits.memory)")
    if "memory" not in container.get("resources", {}).get("limits", {}):
        problems.append(f"container {container['name']} has no memory limit")
    if pod.get("restartPolicy") != "Never":
        problems.append("restartPolicy must be Never for a podFailurePolicy")
    for p in problems:
        print(f"FAIL {where}: Job {job['metadata']['name']}: {p}")
    return len(problems)


def pinned_version(requirement):
    """The version tests/engines/requirements.txt pins for `requirement`."""
    with open(os.path.join(REPO, "tests", "engines", "requirements.txt"), encoding="utf-8") as f:
        for line in f:
            name, _, version = line.split("#")[0].strip().partition("==")
            if name.split("[")[0] == requirement:
                return version
    return None


def example_in_image(path, where, problems):
    """`path` (/opt/wikitok/NAME) is an example the engines' Dockerfile copies there."""
    name = os.path.basename(path)
    if not path.startswith("/opt/wikitok/") or not os.path.isfile(os.path.join(REPO, "examples", name)):
        problems.append(f"{path} is not one of examples/ (the image copies them to /opt/wikitok/)")
    with open(os.path.join(K8S, "engines", "Dockerfile"), encoding="utf-8") as f:
        if f"COPY examples/{name} {path}" not in f.read():
            problems.append(f"k8s/engines/Dockerfile does not copy examples/{name} to {path}")


INCLUDED = re.compile(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)')


def compiled_in_files():
    """Repository paths the crates compile in (include_str!/include_bytes!)."""
    paths = set()
    for source in glob.glob(os.path.join(REPO, "src", "**", "*.rs"), recursive=True) + glob.glob(
            os.path.join(REPO, "python", "src", "**", "*.rs"), recursive=True):
        with open(source, encoding="utf-8") as f:
            for relative in INCLUDED.findall(f.read()):
                full = os.path.normpath(os.path.join(os.path.dirname(source), relative))
                paths.add(os.path.relpath(full, REPO))
    return sorted(paths)


def dockerfile_build_copies_compiled_in_files(dockerfile):
    """Problems: files the build compiles in that `dockerfile`'s build stage
    (its first stage) does not copy — the image would not build."""
    with open(os.path.join(REPO, dockerfile), encoding="utf-8") as f:
        first_stage = re.split(r"(?m)^FROM ", f.read())[1]
    copied = [line.split()[1].rstrip("/") for line in first_stage.splitlines()
              if line.startswith("COPY ") and "--from" not in line]
    return [f"{dockerfile}: its build stage does not copy {path}, which the crate compiles in"
            for path in compiled_in_files()
            if not any(path == c or path.startswith(c + "/") for c in copied)]


def validate_pod_template(template, where, what, problems):
    """A pod template inside a custom resource, validated strictly as a Pod."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": template.get("metadata", {"name": what}),
           "spec": template.get("spec", {})}
    pod["metadata"].setdefault("name", what)
    try:
        kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        problems.append(f"{what}: {e.message} at {'/'.join(map(str, e.path))}")
    for c in pod["spec"].get("containers", []):
        if "memory" not in c.get("resources", {}).get("limits", {}):
            problems.append(f"{what}: container {c.get('name')} has no memory limit")


def unknown_fields(obj, known, what, problems):
    for key in obj:
        if key not in known:
            problems.append(f"{what}: unknown field {key!r}")


def check_rayjob(job, where):
    problems = []
    if job.get("apiVersion") != "ray.io/v1":
        problems.append(f"apiVersion {job.get('apiVersion')}: KubeRay's RayJob is ray.io/v1")
    spec = job.get("spec", {})
    unknown_fields(spec, RAYJOB_SPEC, "spec", problems)
    entrypoint = spec.get("entrypoint", "").split()
    if len(entrypoint) < 2 or entrypoint[0] != "python":
        problems.append("the entrypoint is not `python SCRIPT ...`")
    else:
        example_in_image(entrypoint[1], where, problems)
    if not spec.get("shutdownAfterJobFinishes"):
        problems.append("the cluster outlives the job (shutdownAfterJobFinishes)")
    cluster = spec.get("rayClusterSpec", {})
    unknown_fields(cluster, RAY_CLUSTER_SPEC, "spec.rayClusterSpec", problems)
    if cluster.get("rayVersion") != pinned_version("ray"):
        problems.append(f"rayVersion {cluster.get('rayVersion')} is not the Ray tests/engines/ pins ({pinned_version('ray')})")
    groups = [("head", cluster.get("headGroupSpec", {}))] + [
        (g.get("groupName", "?"), g) for g in cluster.get("workerGroupSpecs", [])
    ]
    if len(groups) < 2:
        problems.append("no worker group")
    for name, group in groups:
        unknown_fields(group, RAY_GROUP_SPEC, f"group {name}", problems)
        if "template" not in group or "rayStartParams" not in group:
            problems.append(f"group {name}: template and rayStartParams are required")
            continue
        validate_pod_template(group["template"], where, f"group {name}", problems)
        if name != "head" and not group.get("minReplicas", 0) <= group.get("replicas", 0) <= group.get("maxReplicas", 0):
            problems.append(f"group {name}: replicas outside minReplicas..maxReplicas")
    for p in problems:
        print(f"FAIL {where}: RayJob {job['metadata']['name']}: {p}")
    return len(problems)


def check_spark_application(app, where):
    problems = []
    if app.get("apiVersion") != "sparkoperator.k8s.io/v1beta2":
        problems.append(f"apiVersion {app.get('apiVersion')}: the Spark operator's is sparkoperator.k8s.io/v1beta2")
    spec = app.get("spec", {})
    unknown_fields(spec, SPARK_APP_SPEC, "spec", problems)
    if spec.get("type") != "Python" or spec.get("mode") != "cluster":
        problems.append("not a Python application in cluster mode")
    main_file = spec.get("mainApplicationFile", "")
    if not main_file.startswith("local://"):
        problems.append("mainApplicationFile is not local:// (in the image)")
    else:
        example_in_image(main_file[len("local://"):], where, problems)
    if int(str(spec.get("sparkVersion", "0")).split(".")[0]) < 4:
        problems.append("sparkVersion < 4: Python data sources need Spark 4")
    arguments = spec.get("arguments", [])
    for flag in ("--input", "--output"):
        if flag not in arguments:
            problems.append(f"no {flag} argument")
    restart = spec.get("restartPolicy", {})
    if restart.get("type") not in ("OnFailure", "Always") or not restart.get("onFailureRetries"):
        problems.append("a failed application is not resubmitted (restartPolicy)")
    for role in ("driver", "executor"):
        pod = spec.get(role, {})
        unknown_fields(pod, SPARK_POD_SPEC, role, problems)
        if "cores" not in pod or "memory" not in pod:
            problems.append(f"{role}: cores and memory are required")
    if spec.get("executor", {}).get("instances", 0) < 1:
        problems.append("no executors")
    for p in problems:
        print(f"FAIL {where}: SparkApplication {app['metadata']['name']}: {p}")
    return len(problems)


CUSTOM_CHECKS = {"RayJob": check_rayjob, "SparkApplication": check_spark_application}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--job-command":
        objects = render(os.path.join(K8S, sys.argv[2]))
        job = next(o for o in objects if o["kind"] == "Job" and o["metadata"]["name"] == "wikitok-tokenize")
        c = job["spec"]["template"]["spec"]["containers"][0]
        print(json.dumps({
            "args": c["args"],
            "env": {e["name"]: e.get("value") for e in c.get("env", [])},
            "mounts": {m["mountPath"]: m["name"] for m in c["volumeMounts"]},
            "completions": job["spec"]["completions"],
            "parallelism": job["spec"]["parallelism"],
            "memory_limit": c["resources"]["limits"]["memory"],
            "cpu_limit": c["resources"]["limits"]["cpu"],
        }))
        return 0
    failures = 0
    sql_files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "sql", "*.sql")))
    k8s_sql = sorted(os.path.basename(p) for p in glob.glob(os.path.join(K8S, "sql", "*.sql")))
    if sql_files != k8s_sql or any(not filecmp.cmp(os.path.join(REPO, "sql", f), os.path.join(K8S, "sql", f), shallow=False) for f in sql_files):
        print("FAIL k8s/sql/ differs from sql/: run  cp sql/*.sql k8s/sql/")
        failures += 1
    for dockerfile in ("Dockerfile", "k8s/engines/Dockerfile"):
        for problem in dockerfile_build_copies_compiled_in_files(dockerfile):
            print(f"FAIL {problem}")
            failures += 1
    for name in KUSTOMIZATIONS:
        where = f"k8s/{name}".rstrip("/")
        try:
            objects = render(os.path.join(K8S, name))
        except Failure as e:
            print(f"FAIL {e}")
            failures += 1
            continue
        for o in objects:
            if o["kind"] in CUSTOM_CHECKS:
                failures += CUSTOM_CHECKS[o["kind"]](o, where)
                continue
            try:
                kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as e:
                print(f"FAIL {where}: {o['kind']}/{o['metadata']['name']}: {e.message} at {'/'.join(map(str, e.path))}")
                failures += 1
            if o["kind"] == "Job":
                failures += check_job(o, where)
        print(f"{where}: {len(objects)} objects rendered and validated ({', '.join(o['kind'] for o in objects)})")
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
