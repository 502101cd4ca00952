#ifdef __cplusplus
extern "C" {
#endif
void ultraface_set_threads(int n);
#ifdef __cplusplus
}
#endif
