import MIMSBLAS
BLASRuntime.ensureFastKernel()
print(BLASRuntime.summary)
