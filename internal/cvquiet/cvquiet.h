#ifdef __cplusplus
extern "C" {
#endif
void cvquiet_silence(void);
#ifdef __cplusplus
}
#endif
