// memcache-hybrid ACL addon: device segments in Ascend HBM and pinned host memory.
//
// It does not link against ACL: libascendcl.so is dlopen()ed at run time and the few runtime
// functions used are declared here (signatures of CANN's acl/acl.h and acl/acl_rt.h), so no
// CANN headers are needed to build, and the addon loads on machines without CANN.
//
// Device memory is never touched from the host: every byte moves through aclrtMemcpy with the
// kind matching both sides. Segment memory is identified to JavaScript by a small integer id;
// raw pointers never leave this file.
//
// Threading: the allocation table is used from the JS thread only. A copy is resolved to raw
// pointers plus the ACL context of the device on the JS thread, then either run inline or on the
// libuv pool (Napi::AsyncWorker). A thread running a copy first makes the right context current
// (aclrtSetCurrentContext), as ACL requires per thread. The JS layer never frees an allocation
// while a copy on it is in flight; the `busy` count double-checks that.

#include <napi.h>

#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using aclError = int;
using aclrtContext = void *;

constexpr aclError ACL_SUCCESS = 0;
constexpr aclError ACL_ERROR_REPEAT_INITIALIZE = 100002;
constexpr int ACL_MEM_MALLOC_HUGE_FIRST = 0;
enum aclrtMemcpyKind : int {
  ACL_MEMCPY_HOST_TO_HOST = 0,
  ACL_MEMCPY_HOST_TO_DEVICE = 1,
  ACL_MEMCPY_DEVICE_TO_HOST = 2,
  ACL_MEMCPY_DEVICE_TO_DEVICE = 3,
};

// The ACL entry points used, resolved with dlsym.
struct AclApi {
  aclError (*aclInit)(const char *configPath);
  aclError (*aclFinalize)();
  aclError (*aclrtSetDevice)(int32_t deviceId);
  aclError (*aclrtResetDevice)(int32_t deviceId);
  aclError (*aclrtGetCurrentContext)(aclrtContext *context);
  aclError (*aclrtSetCurrentContext)(aclrtContext context);
  aclError (*aclrtMalloc)(void **devPtr, size_t size, int policy);
  aclError (*aclrtFree)(void *devPtr);
  aclError (*aclrtMallocHost)(void **hostPtr, size_t size);
  aclError (*aclrtFreeHost)(void *hostPtr);
  aclError (*aclrtMemcpy)(void *dst, size_t destMax, const void *src, size_t count, int kind);
  const char *(*aclGetRecentErrMsg)();
};

struct Symbol {
  const char *name;
  void **slot;
};

void *g_lib = nullptr;
std::string g_libPath;
AclApi g_api{};
int g_initRefs = 0;

struct DeviceState {
  aclrtContext ctx = nullptr;
  int refs = 0;
};
std::map<int32_t, DeviceState> g_devices;

struct Allocation {
  void *ptr;
  uint64_t bytes;
  int32_t device;
  bool hbm;
  int busy;  // copies in flight
};
std::map<uint32_t, Allocation> g_allocs;
uint32_t g_nextId = 1;

// One failed ACL call: the function, its code, and aclGetRecentErrMsg() read on the same thread.
struct AclFailure {
  bool failed = false;
  std::string function;
  aclError code = 0;
  std::string message;
};

void Record(AclFailure &f, const char *function, aclError code) {
  f.failed = true;
  f.function = function;
  f.code = code;
  const char *msg = g_api.aclGetRecentErrMsg ? g_api.aclGetRecentErrMsg() : nullptr;
  f.message = msg ? msg : "";
}

Napi::Error MakeAclError(Napi::Env env, const AclFailure &f) {
  std::string text = f.function + " failed with ACL error " + std::to_string(f.code);
  if (!f.message.empty()) text += ": " + f.message;
  Napi::Error err = Napi::Error::New(env, text);
  err.Set("aclFunction", Napi::String::New(env, f.function));
  err.Set("aclError", Napi::Number::New(env, f.code));
  err.Set("aclMessage", Napi::String::New(env, f.message));
  return err;
}

[[noreturn]] void ThrowAcl(Napi::Env env, const char *function, aclError code) {
  AclFailure f;
  Record(f, function, code);
  throw MakeAclError(env, f);
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string &msg) {
  throw Napi::TypeError::New(env, msg);
}

uint64_t ToU64(Napi::Env env, const Napi::Value &v, const char *what) {
  if (!v.IsNumber()) ThrowType(env, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d)))
    ThrowType(env, std::string(what) + " must be a non-negative integer");
  return static_cast<uint64_t>(d);
}

int32_t ToDevice(Napi::Env env, const Napi::Value &v) {
  uint64_t d = ToU64(env, v, "device");
  if (d > 0x7fffffff) ThrowType(env, "device out of range");
  return static_cast<int32_t>(d);
}

void RequireInit(Napi::Env env) {
  if (!g_lib || g_initRefs == 0) throw Napi::Error::New(env, "ACL is not initialized (call init first)");
}

Allocation &FindAlloc(Napi::Env env, const Napi::Value &v) {
  uint64_t id = ToU64(env, v, "allocation id");
  auto it = g_allocs.find(static_cast<uint32_t>(id));
  if (id > 0xffffffffu || it == g_allocs.end())
    throw Napi::Error::New(env, "unknown allocation " + std::to_string(id));
  return it->second;
}

aclrtContext ContextOf(Napi::Env env, int32_t device) {
  auto it = g_devices.find(device);
  if (it == g_devices.end() || it->second.refs == 0)
    throw Napi::Error::New(env, "device " + std::to_string(device) + " is not set");
  return it->second.ctx;
}

// ---------------------------------------------------------------------------------------------
// Copy jobs: a list of aclrtMemcpy steps, each run with one context current.

struct Step {
  aclrtContext ctx;
  void *dst;
  size_t destMax;
  const void *src;
  size_t count;
  int kind;
};

struct Job {
  std::vector<Step> steps;
  // Cross-device HBM -> HBM goes through a host bounce buffer, chunk by chunk.
  bool bounce = false;
  aclrtContext srcCtx = nullptr, dstCtx = nullptr;
  const char *bounceSrc = nullptr;
  char *bounceDst = nullptr;
  size_t bounceBytes = 0;
  std::vector<uint32_t> busy;  // allocation ids held busy until the job settles
};

constexpr size_t kBounceChunk = 8u << 20;

void RunJob(Job &job, AclFailure &f) {
  for (const Step &s : job.steps) {
    aclError rc = g_api.aclrtSetCurrentContext(s.ctx);
    if (rc != ACL_SUCCESS) return Record(f, "aclrtSetCurrentContext", rc);
    rc = g_api.aclrtMemcpy(s.dst, s.destMax, s.src, s.count, s.kind);
    if (rc != ACL_SUCCESS) return Record(f, "aclrtMemcpy", rc);
  }
  if (job.bounce && job.bounceBytes > 0) {
    std::unique_ptr<char[]> buf(new (std::nothrow) char[std::min(kBounceChunk, job.bounceBytes)]);
    if (!buf) {
      f.failed = true;
      f.function = "bounce buffer";
      f.code = -1;
      f.message = "out of host memory";
      return;
    }
    for (size_t done = 0; done < job.bounceBytes;) {
      size_t n = std::min(kBounceChunk, job.bounceBytes - done);
      aclError rc = g_api.aclrtSetCurrentContext(job.srcCtx);
      if (rc != ACL_SUCCESS) return Record(f, "aclrtSetCurrentContext", rc);
      rc = g_api.aclrtMemcpy(buf.get(), n, job.bounceSrc + done, n, ACL_MEMCPY_DEVICE_TO_HOST);
      if (rc != ACL_SUCCESS) return Record(f, "aclrtMemcpy", rc);
      rc = g_api.aclrtSetCurrentContext(job.dstCtx);
      if (rc != ACL_SUCCESS) return Record(f, "aclrtSetCurrentContext", rc);
      rc = g_api.aclrtMemcpy(job.bounceDst + done, n, buf.get(), n, ACL_MEMCPY_HOST_TO_DEVICE);
      if (rc != ACL_SUCCESS) return Record(f, "aclrtMemcpy", rc);
      done += n;
    }
  }
}

void Unbusy(const Job &job) {
  for (uint32_t id : job.busy) {
    auto it = g_allocs.find(id);
    if (it != g_allocs.end()) it->second.busy--;
  }
}

class CopyWorker : public Napi::AsyncWorker {
 public:
  CopyWorker(Napi::Env env, std::unique_ptr<Job> job, Napi::Value keep)
      : Napi::AsyncWorker(env, "mmc:aclMemcpy"), deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)) {
    if (keep.IsObject()) keep_ = Napi::Persistent(keep.As<Napi::Object>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { RunJob(*job_, failure_); }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    Unbusy(*job_);
    if (failure_.failed)
      deferred_.Reject(MakeAclError(Env(), failure_).Value());
    else
      deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error &e) override {
    Unbusy(*job_);
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Job> job_;
  Napi::ObjectReference keep_;  // the caller's buffer stays alive while the copy runs
  AclFailure failure_;
};

// Run inline (returns undefined) or on the pool (returns a Promise).
Napi::Value Submit(Napi::Env env, std::unique_ptr<Job> job, bool async, Napi::Value keep) {
  for (uint32_t id : job->busy) g_allocs[id].busy++;
  if (!async) {
    AclFailure f;
    RunJob(*job, f);
    Unbusy(*job);
    if (f.failed) throw MakeAclError(env, f);
    return env.Undefined();
  }
  auto *worker = new CopyWorker(env, std::move(job), keep);
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

void CheckRange(Napi::Env env, const Allocation &a, uint64_t offset, uint64_t len) {
  if (offset > a.bytes || len > a.bytes - offset)
    throw Napi::RangeError::New(env, "range [" + std::to_string(offset) + ", +" + std::to_string(len) +
                                         ") is outside the " + std::to_string(a.bytes) + "-byte segment");
}

// ---------------------------------------------------------------------------------------------
// Exports

// load(paths: string[]): try each path with dlopen, then resolve every symbol.
// Returns { ok: true, path } | { ok: false, kind: 'not-found', errors: string[] }
//       | { ok: false, kind: 'missing-symbol', path, symbol, error }
Napi::Value Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (g_lib && g_initRefs > 0) {  // in use: keep it
    out.Set("ok", true);
    out.Set("path", g_libPath);
    out.Set("reused", true);
    return out;
  }
  if (!info[0].IsArray()) ThrowType(env, "load(paths: string[])");
  Napi::Array paths = info[0].As<Napi::Array>();
  if (g_lib) {
    dlclose(g_lib);
    g_lib = nullptr;
    g_libPath.clear();
    g_api = AclApi{};
    g_devices.clear();
  }
  Napi::Array errors = Napi::Array::New(env);
  for (uint32_t i = 0; i < paths.Length(); i++) {
    std::string path = paths.Get(i).ToString().Utf8Value();
    dlerror();
    void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib) {
      const char *e = dlerror();
      errors.Set(errors.Length(), Napi::String::New(env, e ? e : (path + ": dlopen failed")));
      continue;
    }
    AclApi api{};
    Symbol symbols[] = {
        {"aclInit", reinterpret_cast<void **>(&api.aclInit)},
        {"aclFinalize", reinterpret_cast<void **>(&api.aclFinalize)},
        {"aclrtSetDevice", reinterpret_cast<void **>(&api.aclrtSetDevice)},
        {"aclrtResetDevice", reinterpret_cast<void **>(&api.aclrtResetDevice)},
        {"aclrtGetCurrentContext", reinterpret_cast<void **>(&api.aclrtGetCurrentContext)},
        {"aclrtSetCurrentContext", reinterpret_cast<void **>(&api.aclrtSetCurrentContext)},
        {"aclrtMalloc", reinterpret_cast<void **>(&api.aclrtMalloc)},
        {"aclrtFree", reinterpret_cast<void **>(&api.aclrtFree)},
        {"aclrtMallocHost", reinterpret_cast<void **>(&api.aclrtMallocHost)},
        {"aclrtFreeHost", reinterpret_cast<void **>(&api.aclrtFreeHost)},
        {"aclrtMemcpy", reinterpret_cast<void **>(&api.aclrtMemcpy)},
        {"aclGetRecentErrMsg", reinterpret_cast<void **>(&api.aclGetRecentErrMsg)},
    };
    // Where did it come from (matters for the default linker path)?
    std::string where = path;
    for (const Symbol &s : symbols) {
      dlerror();
      *s.slot = dlsym(lib, s.name);
      if (!*s.slot) {
        const char *e = dlerror();
        std::string err = e ? e : (std::string("undefined symbol: ") + s.name);
        dlclose(lib);
        out.Set("ok", false);
        out.Set("kind", "missing-symbol");
        out.Set("path", where);
        out.Set("symbol", s.name);
        out.Set("error", err);
        return out;
      }
    }
    // Found through the default linker path: say which file it was.
    Dl_info dli;
    if (path.find('/') == std::string::npos && dladdr(reinterpret_cast<void *>(api.aclInit), &dli) && dli.dli_fname)
      where = dli.dli_fname;
    g_lib = lib;
    g_libPath = where;
    g_api = api;
    out.Set("ok", true);
    out.Set("path", where);
    return out;
  }
  out.Set("ok", false);
  out.Set("kind", "not-found");
  out.Set("errors", errors);
  return out;
}

// init(): aclInit once per process (reference counted across backends).
Napi::Value Init(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!g_lib) throw Napi::Error::New(env, "libascendcl.so is not loaded");
  if (g_initRefs == 0) {
    aclError rc = g_api.aclInit(nullptr);
    if (rc != ACL_SUCCESS && rc != ACL_ERROR_REPEAT_INITIALIZE) ThrowAcl(env, "aclInit", rc);
  }
  g_initRefs++;
  return env.Undefined();
}

// finalize(): aclFinalize after the last user.
Napi::Value Finalize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (g_initRefs == 0) return env.Undefined();
  if (--g_initRefs == 0) {
    aclError rc = g_api.aclFinalize();
    g_devices.clear();
    if (rc != ACL_SUCCESS) ThrowAcl(env, "aclFinalize", rc);
  }
  return env.Undefined();
}

// setDevice(device): aclrtSetDevice and remember the device's context.
Napi::Value SetDevice(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireInit(env);
  int32_t dev = ToDevice(env, info[0]);
  DeviceState &d = g_devices[dev];
  aclError rc = g_api.aclrtSetDevice(dev);
  if (rc != ACL_SUCCESS) {
    if (d.refs == 0) g_devices.erase(dev);
    ThrowAcl(env, "aclrtSetDevice", rc);
  }
  aclrtContext ctx = nullptr;
  rc = g_api.aclrtGetCurrentContext(&ctx);
  if (rc != ACL_SUCCESS) {
    g_api.aclrtResetDevice(dev);
    if (d.refs == 0) g_devices.erase(dev);
    ThrowAcl(env, "aclrtGetCurrentContext", rc);
  }
  d.ctx = ctx;
  d.refs++;
  return env.Undefined();
}

// resetDevice(device): undo one setDevice.
Napi::Value ResetDevice(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireInit(env);
  int32_t dev = ToDevice(env, info[0]);
  auto it = g_devices.find(dev);
  if (it == g_devices.end() || it->second.refs == 0) return env.Undefined();
  aclError rc = g_api.aclrtResetDevice(dev);
  if (--it->second.refs == 0) g_devices.erase(it);
  if (rc != ACL_SUCCESS) ThrowAcl(env, "aclrtResetDevice", rc);
  return env.Undefined();
}

// malloc(device, hbm: boolean, bytes): HBM by aclrtMalloc(HUGE_FIRST), DRAM by aclrtMallocHost.
Napi::Value Malloc(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireInit(env);
  int32_t dev = ToDevice(env, info[0]);
  bool hbm = info[1].ToBoolean().Value();
  uint64_t bytes = ToU64(env, info[2], "bytes");
  if (bytes == 0) ThrowType(env, "bytes must be positive");
  aclrtContext ctx = ContextOf(env, dev);
  aclError rc = g_api.aclrtSetCurrentContext(ctx);
  if (rc != ACL_SUCCESS) ThrowAcl(env, "aclrtSetCurrentContext", rc);
  void *ptr = nullptr;
  if (hbm) {
    rc = g_api.aclrtMalloc(&ptr, static_cast<size_t>(bytes), ACL_MEM_MALLOC_HUGE_FIRST);
    if (rc != ACL_SUCCESS) ThrowAcl(env, "aclrtMalloc", rc);
  } else {
    rc = g_api.aclrtMallocHost(&ptr, static_cast<size_t>(bytes));
    if (rc != ACL_SUCCESS) ThrowAcl(env, "aclrtMallocHost", rc);
  }
  uint32_t id = g_nextId++;
  if (g_nextId == 0) g_nextId = 1;
  g_allocs[id] = Allocation{ptr, bytes, dev, hbm, 0};
  return Napi::Number::New(env, id);
}

// free(id): aclrtFree / aclrtFreeHost.
Napi::Value Free(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireInit(env);
  Allocation &a = FindAlloc(env, info[0]);
  if (a.busy > 0) throw Napi::Error::New(env, "allocation has copies in flight");
  uint32_t id = static_cast<uint32_t>(info[0].As<Napi::Number>().Uint32Value());
  Allocation copy = a;
  g_allocs.erase(id);
  auto dit = g_devices.find(copy.device);
  if (dit != g_devices.end()) g_api.aclrtSetCurrentContext(dit->second.ctx);
  aclError rc = copy.hbm ? g_api.aclrtFree(copy.ptr) : g_api.aclrtFreeHost(copy.ptr);
  if (rc != ACL_SUCCESS) ThrowAcl(env, copy.hbm ? "aclrtFree" : "aclrtFreeHost", rc);
  return env.Undefined();
}

Napi::Uint8Array ToBytes(Napi::Env env, const Napi::Value &v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    ThrowType(env, "expected a Uint8Array");
  return v.As<Napi::Uint8Array>();
}

// write(id, offset, src: Uint8Array, async: boolean)
Napi::Value Write(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireInit(env);
  Allocation &a = FindAlloc(env, info[0]);
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  uint64_t offset = ToU64(env, info[1], "offset");
  Napi::Uint8Array src = ToBytes(env, info[2]);
  bool async = info[3].ToBoolean().Value();
  size_t n = src.ByteLength();
  CheckRange(env, a, offset, n);
  auto job = std::make_unique<Job>();
  if (n > 0) {
    job->steps.push_back(Step{ContextOf(env, a.device), static_cast<char *>(a.ptr) + offset, n, src.Data(), n,
                              a.hbm ? ACL_MEMCPY_HOST_TO_DEVICE : ACL_MEMCPY_HOST_TO_HOST});
  }
  job->busy.push_back(id);
  return Submit(env, std::move(job), async, info[2]);
}

// read(id, offset, dst: Uint8Array, async: boolean): fills all of dst.
Napi::Value Read(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireInit(env);
  Allocation &a = FindAlloc(env, info[0]);
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  uint64_t offset = ToU64(env, info[1], "offset");
  Napi::Uint8Array dst = ToBytes(env, info[2]);
  bool async = info[3].ToBoolean().Value();
  size_t n = dst.ByteLength();
  CheckRange(env, a, offset, n);
  auto job = std::make_unique<Job>();
  if (n > 0) {
    job->steps.push_back(Step{ContextOf(env, a.device), dst.Data(), n, static_cast<char *>(a.ptr) + offset, n,
                              a.hbm ? ACL_MEMCPY_DEVICE_TO_HOST : ACL_MEMCPY_HOST_TO_HOST});
  }
  job->busy.push_back(id);
  return Submit(env, std::move(job), async, info[2]);
}

// copy(srcId, srcOffset, dstId, dstOffset, bytes, async: boolean)
Napi::Value Copy(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  RequireInit(env);
  Allocation &s = FindAlloc(env, info[0]);
  uint32_t sid = info[0].As<Napi::Number>().Uint32Value();
  uint64_t soff = ToU64(env, info[1], "srcOffset");
  Allocation &d = FindAlloc(env, info[2]);
  uint32_t did = info[2].As<Napi::Number>().Uint32Value();
  uint64_t doff = ToU64(env, info[3], "dstOffset");
  uint64_t n = ToU64(env, info[4], "bytes");
  bool async = info[5].ToBoolean().Value();
  CheckRange(env, s, soff, n);
  CheckRange(env, d, doff, n);
  auto job = std::make_unique<Job>();
  const char *sp = static_cast<const char *>(s.ptr) + soff;
  char *dp = static_cast<char *>(d.ptr) + doff;
  aclrtContext sctx = ContextOf(env, s.device), dctx = ContextOf(env, d.device);
  if (n > 0) {
    if (s.hbm && d.hbm && s.device != d.device) {
      job->bounce = true;
      job->srcCtx = sctx;
      job->dstCtx = dctx;
      job->bounceSrc = sp;
      job->bounceDst = dp;
      job->bounceBytes = n;
    } else if (s.hbm && d.hbm) {
      job->steps.push_back(Step{sctx, dp, n, sp, n, ACL_MEMCPY_DEVICE_TO_DEVICE});
    } else if (s.hbm) {  // demotion: HBM -> pinned host
      job->steps.push_back(Step{sctx, dp, n, sp, n, ACL_MEMCPY_DEVICE_TO_HOST});
    } else if (d.hbm) {  // promotion: pinned host -> HBM
      job->steps.push_back(Step{dctx, dp, n, sp, n, ACL_MEMCPY_HOST_TO_DEVICE});
    } else {
      job->steps.push_back(Step{sctx, dp, n, sp, n, ACL_MEMCPY_HOST_TO_HOST});
    }
  }
  job->busy.push_back(sid);
  job->busy.push_back(did);
  return Submit(env, std::move(job), async, env.Undefined());
}

// stats(): { library, initRefs, devices, allocations, bytes }
Napi::Value Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("library", g_lib ? Napi::Value(Napi::String::New(env, g_libPath)) : env.Null());
  o.Set("initRefs", g_initRefs);
  o.Set("devices", static_cast<double>(g_devices.size()));
  double bytes = 0;
  for (auto &kv : g_allocs) bytes += static_cast<double>(kv.second.bytes);
  o.Set("allocations", static_cast<double>(g_allocs.size()));
  o.Set("bytes", bytes);
  return o;
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load, "load"));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("setDevice", Napi::Function::New(env, SetDevice, "setDevice"));
  exports.Set("resetDevice", Napi::Function::New(env, ResetDevice, "resetDevice"));
  exports.Set("malloc", Napi::Function::New(env, Malloc, "malloc"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  return exports;
}

}  // namespace

NODE_API_MODULE(mmc_acl, InitModule)
